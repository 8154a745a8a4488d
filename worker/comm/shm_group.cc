#include "worker/comm/shm_group.h"

#include <linux/futex.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <ctime>
#include <fstream>
#include <new>
#include <random>
#include <sstream>
#include <thread>
#include <utility>

#include "worker/comm/prefix_store.h"

namespace cyclr {

constexpr uint64_t kShmMagic = 0x63796c72'73686d31ULL;  // "cyclrshm1"
constexpr size_t kHeaderBytes = 4096;                   // keeps the workspace page-aligned

struct alignas(64) PaddedFlag {
  std::atomic<uint64_t> value{0};
};

// Lives at offset 0 of every segment; written by its owner, read by peers.
struct ShmHeader {
  uint64_t magic = kShmMagic;
  int64_t pid = 0;
  uint64_t pid_ns = 0;       // inode of /proc/self/ns/pid: pids compare only within one namespace
  uint64_t start_time = 0;   // /proc/<pid>/stat field 22: tells a reused pid apart
  uint64_t capacity = 0;     // shm_workspace_bytes and shm_small_bytes: the chunking and the
  uint64_t small_bytes = 0;  // algorithm, which every rank must share
  PaddedFlag flags[3];       // indexed by ShmFlag
  PaddedFlag aborted;
  // Futex word, bumped after every change above; peers blocked on it are counted in `sleepers`.
  alignas(64) std::atomic<uint32_t> wake_seq{0};
  std::atomic<uint32_t> sleepers{0};
};
static_assert(sizeof(ShmHeader) <= kHeaderBytes, "header must fit before the workspace");
static_assert(std::atomic<uint64_t>::is_always_lock_free, "flags are shared between processes");
static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t), "a futex word is 32 bits");

namespace {

const char* FlagName(ShmFlag flag) {
  switch (flag) {
    case ShmFlag::kCopied:
      return "copied";
    case ShmFlag::kReduced:
      return "reduced";
    case ShmFlag::kDone:
      return "done";
  }
  return "?";
}

uint64_t PidNamespace() {
  struct stat st {};
  return stat("/proc/self/ns/pid", &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

// State letter and start time of a process, from /proc/<pid>/stat; false when it is gone.
bool ReadProcStat(int64_t pid, char* state, uint64_t* start_time) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!in || !std::getline(in, line)) return false;
  const size_t paren = line.rfind(')');  // the command name may hold spaces and parentheses
  if (paren == std::string::npos) return false;
  std::istringstream rest(line.substr(paren + 1));
  std::string field;
  rest >> *state;  // field 3
  for (int i = 4; i < 22 && rest >> field; ++i) {
  }
  return static_cast<bool>(rest >> *start_time);  // field 22
}

// Sleeps while *word == expected, at most `timeout` (shared futex: works across processes and
// across several mappings of one page). Spurious wake-ups are fine: callers re-check.
void FutexWait(std::atomic<uint32_t>* word, uint32_t expected, std::chrono::nanoseconds timeout) {
  struct timespec ts;
  ts.tv_sec = static_cast<time_t>(timeout.count() / 1000000000);
  ts.tv_nsec = static_cast<long>(timeout.count() % 1000000000);
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT, expected, &ts, nullptr, 0);
}

void FutexWakeAll(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

// Bumps h's futex word and wakes its sleepers, after a flag of h changed.
void Wake(ShmHeader* h) {
  h->wake_seq.fetch_add(1, std::memory_order_seq_cst);
  if (h->sleepers.load(std::memory_order_seq_cst) != 0) FutexWakeAll(&h->wake_seq);
}

std::string RandomNonce() {
  std::random_device rd;
  const uint64_t n =
      (static_cast<uint64_t>(rd()) << 32) ^ rd() ^
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(n));
  return buf;
}

std::vector<std::string> RankKeys(const std::string& phase, int size) {
  std::vector<std::string> keys;
  for (int r = 0; r < size; ++r) keys.push_back(phase + "/" + std::to_string(r));
  return keys;
}

}  // namespace

std::string ShmNamePrefix(const std::string& store_prefix) {
  std::string tag;
  for (char c : store_prefix.substr(0, 96)) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    tag += plain || c == '-' || c == '_' ? c : '_';
  }
  return "cyclr." + tag + ".";
}

ShmGroup::ShmGroup(int rank, size_t capacity, const CommunicatorOptions& options)
    : rank_(rank),
      capacity_(capacity),
      small_bytes_(options.shm_small_bytes),
      spin_iterations_(options.shm_spin_iterations),
      yield_for_(options.shm_yield_for),
      check_every_(options.shm_check_every),
      segments_(options.world_size) {}

ShmGroup::~ShmGroup() = default;  // segments unmap; the own one unlinks its name if still there

StatusOr<std::unique_ptr<ShmGroup>> ShmGroup::Join(const CommunicatorOptions& options,
                                                   const std::shared_ptr<Store>& store) {
  CYCLR_CHECK(store != nullptr);
  PrefixStore ps(options.store_prefix + "/shm", store);
  const auto timeout = options.rendezvous_timeout;
  const int size = options.world_size;
  if (options.rank == 0) CYCLR_RETURN_IF_ERROR(ps.Set("nonce", RandomNonce()));
  CYCLR_ASSIGN_OR_RETURN(auto nonce, ps.Get({"nonce"}, timeout));
  std::unique_ptr<ShmGroup> g(new ShmGroup(options.rank, options.shm_workspace_bytes, options));
  for (int r = 0; r < size; ++r) {
    g->names_.push_back("/" + ShmNamePrefix(options.store_prefix) + nonce[0] + "." +
                        std::to_string(r));
  }
  CYCLR_RETURN_IF_ERROR(g->CreateOwn());
  const std::string me = std::to_string(options.rank);
  CYCLR_RETURN_IF_ERROR(ps.Set("created/" + me, "1"));
  CYCLR_RETURN_IF_ERROR(ps.Get(RankKeys("created", size), timeout).status());
  CYCLR_RETURN_IF_ERROR(g->OpenPeers());
  CYCLR_RETURN_IF_ERROR(ps.Set("mapped/" + me, "1"));
  CYCLR_RETURN_IF_ERROR(ps.Get(RankKeys("mapped", size), timeout).status());
  // Everyone mapped everything: remove every name (a peer killed later cannot leak its own).
  for (const auto& name : g->names_) CYCLR_RETURN_IF_ERROR(UnlinkShmName(name));
  return g;
}

Status ShmGroup::CreateOwn() {
  CYCLR_ASSIGN_OR_RETURN(auto seg, ShmSegment::Create(names_[rank_], kHeaderBytes + capacity_));
  auto* h = new (seg->data()) ShmHeader();
  h->pid = static_cast<int64_t>(getpid());
  h->pid_ns = PidNamespace();
  h->capacity = capacity_;
  h->small_bytes = small_bytes_;
  char state = 0;
  if (!ReadProcStat(h->pid, &state, &h->start_time)) h->start_time = 0;
  segments_[rank_] = std::move(seg);
  return Status::Ok();
}

Status ShmGroup::OpenPeers() {
  for (int r = 0; r < size(); ++r) {
    if (r == rank_) continue;
    // The header first: it says whether the whole segment has the size this rank expects.
    CYCLR_RETURN_IF_ERROR(CheckPeerHeader(r));
    auto seg = ShmSegment::Open(names_[r], kHeaderBytes + capacity_);
    if (!seg.ok()) return seg.status().WithContext("rank " + std::to_string(r));
    segments_[r] = std::move(seg).value();
  }
  return Status::Ok();
}

Status ShmGroup::CheckPeerHeader(int r) const {
  auto seg = ShmSegment::Open(names_[r], kHeaderBytes);
  if (!seg.ok()) {
    return seg.status().WithContext("rank " + std::to_string(rank_) +
                                    " cannot map the shared memory of rank " + std::to_string(r) +
                                    " (not on the same host?)");
  }
  const ShmHeader* h = reinterpret_cast<const ShmHeader*>((*seg)->data());
  if (h->magic != kShmMagic) {
    return Status::FailedPrecondition("shared memory " + names_[r] + " of rank " +
                                      std::to_string(r) + " is not a cyclr workspace");
  }
  if (h->capacity != capacity_ || h->small_bytes != small_bytes_) {
    return Status::FailedPrecondition(
        "rank " + std::to_string(r) + " uses shm_workspace_bytes " + std::to_string(h->capacity) +
        " and shm_small_bytes " + std::to_string(h->small_bytes) + ", rank " +
        std::to_string(rank_) + " " + std::to_string(capacity_) + " and " +
        std::to_string(small_bytes_) + ": every rank needs the same");
  }
  return Status::Ok();
}

ShmHeader* ShmGroup::header(int rank) const {
  return reinterpret_cast<ShmHeader*>(segments_[rank]->data());
}

char* ShmGroup::buffer(int rank) const { return segments_[rank]->data() + kHeaderBytes; }

void ShmGroup::Post(ShmFlag flag, uint64_t step) {
  ShmHeader* h = header(rank_);
  h->flags[static_cast<int>(flag)].value.store(step, std::memory_order_seq_cst);
  Wake(h);
}

void ShmGroup::Abort() {
  ShmHeader* h = header(rank_);
  h->aborted.value.store(1, std::memory_order_seq_cst);
  Wake(h);
}

Status ShmGroup::PeerGone(int peer, ShmFlag flag, uint64_t step) const {
  const ShmHeader* h = header(peer);
  const std::string who = "peer rank " + std::to_string(peer);
  const std::string where = " (waiting for it to post '" + std::string(FlagName(flag)) +
                            "' of step " + std::to_string(step) + ")";
  if (h->aborted.value.load(std::memory_order_acquire) != 0) {
    return Status::Unavailable(who + " closed its communicator or gave up after an error" + where);
  }
  const ShmHeader* mine = header(rank_);
  if (h->pid == mine->pid || h->pid_ns != mine->pid_ns || h->pid_ns == 0) return Status::Ok();
  char state = 0;
  uint64_t start = 0;
  if (!ReadProcStat(h->pid, &state, &start) || state == 'Z' || state == 'X' ||
      start != h->start_time) {
    return Status::Unavailable(who + " (pid " + std::to_string(h->pid) +
                               ") exited during the collective" + where);
  }
  return Status::Ok();
}

Status ShmGroup::WaitFor(int peer, ShmFlag flag, uint64_t step, const ShmDeadline& d) const {
  CYCLR_CHECK(peer != rank_);
  const std::atomic<uint64_t>& f = header(peer)->flags[static_cast<int>(flag)].value;
  for (int i = 0; i < spin_iterations_; ++i) {
    if (f.load(std::memory_order_acquire) >= step) return Status::Ok();
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < yield_for_) {
    if (f.load(std::memory_order_acquire) >= step) return Status::Ok();
    std::this_thread::yield();
  }
  return Block(peer, flag, step, d);
}

Status ShmGroup::Block(int peer, ShmFlag flag, uint64_t step, const ShmDeadline& d) const {
  using Clock = std::chrono::steady_clock;
  ShmHeader* h = header(peer);
  const std::atomic<uint64_t>& f = h->flags[static_cast<int>(flag)].value;
  h->sleepers.fetch_add(1, std::memory_order_seq_cst);
  Clock::time_point next_check = Clock::now() + check_every_;
  Status result;
  for (;;) {
    // Read the futex word before the flag: a Post after this read changes the word, so
    // FutexWait returns at once instead of missing it (both sides use seq_cst).
    const uint32_t seen = h->wake_seq.load(std::memory_order_seq_cst);
    if (f.load(std::memory_order_seq_cst) >= step) break;
    const Clock::time_point now = Clock::now();
    if (now >= d.at) {
      result = Status::DeadlineExceeded(
          "peer rank " + std::to_string(peer) + " did not post '" + FlagName(flag) + "' of step " +
          std::to_string(step) + " within the op timeout (" + std::to_string(d.budget.count()) +
          " ms): it stopped taking part in collectives, or is stuck");
      break;
    }
    if (now >= next_check || h->aborted.value.load(std::memory_order_seq_cst) != 0) {
      Status gone = PeerGone(peer, flag, step);  // reads /proc: ~10 us, hence not every time
      if (!gone.ok()) {  // a peer that posted and then left (closed, exited) did its part
        if (f.load(std::memory_order_seq_cst) < step) result = gone;
        break;
      }
      next_check = now + check_every_;
    }
    FutexWait(&h->wake_seq, seen, std::min<Clock::duration>(check_every_, d.at - now));
  }
  h->sleepers.fetch_sub(1, std::memory_order_seq_cst);
  return result;
}

Status ShmGroup::WaitForAll(ShmFlag flag, uint64_t step, const ShmDeadline& d) const {
  for (int p = 0; p < size(); ++p) {
    if (p != rank_) CYCLR_RETURN_IF_ERROR(WaitFor(p, flag, step, d));
  }
  return Status::Ok();
}

}  // namespace cyclr
