// ShmGroup: the shared-memory workspaces of the ranks on one host, and the flags they
// synchronise with. ShmCommunicator runs its algorithms on top of it.
//
// Each rank owns one POSIX shm segment: a header of flags (one cache line each) followed by a
// workspace of options.shm_workspace_bytes. A rank writes only its own segment (data and
// flags; the one exception is the count of sleepers on a peer's futex) and reads everyone's. A flag
// holds the last step (a per-communicator sequence number, the same on every rank) for which the
// rank reached that point; flags only grow, are stored with release and loaded with acquire, so
// data written before Post() is visible after Wait().
//
// Join() rendezvouses through the Store: rank 0 draws a random nonce, so segment names
// ("/cyclr.<store prefix>.<nonce>.<rank>") are unique per job incarnation; every rank creates
// its segment, maps all peers', and once every rank has mapped every segment all names are
// shm_unlink'ed: from then on a killed process leaves nothing in /dev/shm.
//
// Waiting spins, then yields, then sleeps on a futex in the peer's header that every Post wakes
// (options.shm_*), so a rank waiting for a slow peer leaves the CPU to the computation. It fails
// instead of hanging: at the deadline (DEADLINE_EXCEEDED), when the peer's process is gone
// (UNAVAILABLE; checked through /proc every shm_check_every when the peer is in the same pid
// namespace) or when the peer gave up or closed its communicator (UNAVAILABLE, at once). Every
// message names the peer rank.
//
// Thread-safety: Post/Wait from one thread (the communicator's); Abort from any.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "worker/comm/communicator_options.h"
#include "worker/comm/shm_segment.h"
#include "worker/comm/store.h"

namespace cyclr {

enum class ShmFlag { kCopied = 0, kReduced = 1, kDone = 2 };

// When a collective must be over, and its budget for messages.
struct ShmDeadline {
  std::chrono::steady_clock::time_point at;
  std::chrono::milliseconds budget;
};

struct ShmHeader;  // the flags at the start of every segment (shm_group.cc)

class ShmGroup {
 public:
  // REQUIRES: store != nullptr, options valid. Blocks up to rendezvous_timeout per phase.
  static StatusOr<std::unique_ptr<ShmGroup>> Join(const CommunicatorOptions& options,
                                                  const std::shared_ptr<Store>& store);
  ~ShmGroup();

  int rank() const { return rank_; }
  int size() const { return static_cast<int>(segments_.size()); }
  size_t capacity() const { return capacity_; }
  // The workspace of `rank` (capacity() bytes). Write only your own.
  char* buffer(int rank) const;
  // The segment names (already unlinked after Join; for tests and messages).
  const std::vector<std::string>& names() const { return names_; }

  // Publishes that this rank reached `flag` for `step` (release).
  void Post(ShmFlag flag, uint64_t step);
  // Waits until `peer` posted `flag` for `step` or later. REQUIRES: peer != rank().
  Status WaitFor(int peer, ShmFlag flag, uint64_t step, const ShmDeadline& deadline) const;
  // WaitFor on every peer, in rank order.
  Status WaitForAll(ShmFlag flag, uint64_t step, const ShmDeadline& deadline) const;
  // Tells the peers this rank gave up (their waits on it fail at once).
  void Abort();

 private:
  ShmGroup(int rank, size_t capacity, const CommunicatorOptions& options);
  Status CreateOwn();
  Status OpenPeers();
  // FAILED_PRECONDITION unless rank r's segment is a cyclr workspace with this rank's sizes.
  Status CheckPeerHeader(int r) const;
  ShmHeader* header(int rank) const;
  // WaitFor's slow path: sleeps on the peer's futex word, waking at every Post of that peer and
  // every check_every_ to see whether it is gone.
  Status Block(int peer, ShmFlag flag, uint64_t step, const ShmDeadline& deadline) const;
  // Non-OK if `peer` aborted or its process is gone.
  Status PeerGone(int peer, ShmFlag flag, uint64_t step) const;

  const int rank_;
  const size_t capacity_;
  const size_t small_bytes_;  // checked equal on every rank (ShmCommunicator's algorithm uses it)
  const int spin_iterations_;
  const std::chrono::microseconds yield_for_;
  const std::chrono::milliseconds check_every_;
  std::vector<std::string> names_;
  std::vector<std::unique_ptr<ShmSegment>> segments_;  // index = rank
};

// What every segment name of a communicator with `store_prefix` starts with, without the
// leading '/' (so a test can look for leftovers in /dev/shm).
std::string ShmNamePrefix(const std::string& store_prefix);

}  // namespace cyclr
