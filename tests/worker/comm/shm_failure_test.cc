// Shared memory fails clearly instead of hanging: a peer that skips a collective, a peer that
// closes its communicator, a peer process killed with SIGKILL mid-collective (which must leave
// nothing in /dev/shm either).
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/worker/comm/spawn.h"
#include "worker/comm/communicator_factory.h"
#include "worker/comm/file_store.h"
#include "worker/comm/in_memory_store.h"
#include "worker/comm/shm_group.h"

namespace cyclr {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
using testing::Spawn;

CommunicatorOptions ShmOptions(int rank, int size, const std::string& prefix) {
  CommunicatorOptions o;
  o.rank = rank;
  o.world_size = size;
  o.store_prefix = prefix;
  o.rendezvous_timeout = milliseconds(10000);
  o.op_timeout = milliseconds(300);
  o.shm_workspace_bytes = 64 << 10;
  return o;
}

bool Contains(const Status& s, const std::string& part) {
  return s.message().find(part) != std::string::npos;
}

// Entries of /dev/shm that belong to communicators with `store_prefix`.
std::vector<std::string> LeftoverSegments(const std::string& store_prefix) {
  std::vector<std::string> found;
  const std::string want = ShmNamePrefix(store_prefix);
  DIR* dir = opendir("/dev/shm");
  if (dir == nullptr) return found;
  while (dirent* e = readdir(dir)) {
    const std::string name = e->d_name;
    if (name.compare(0, want.size(), want) == 0) found.push_back(name);
  }
  closedir(dir);
  return found;
}

std::string UniquePrefix(const std::string& what) {
  return what + "-" + std::to_string(getpid()) + "-" +
         std::to_string(Clock::now().time_since_epoch().count());
}

TEST(ShmTest, SegmentsAreUnlinkedOnceEveryRankMappedThem) {
  auto store = std::make_shared<InMemoryStore>();
  const std::string prefix = UniquePrefix("unlinked");
  Spawn(3, [&](int rank) {
    auto comm = MakeCommunicator(ShmOptions(rank, 3, prefix), store);
    ASSERT_TRUE(comm.ok()) << comm.status().ToString();
    EXPECT_EQ((*comm)->backend(), "shm");
    EXPECT_TRUE(LeftoverSegments(prefix).empty());
    int64_t v = rank;
    ASSERT_TRUE(
        (*comm)->AllReduce(&v, 1, DataType::kInt64, ReduceOp::kSum)->Wait(milliseconds(5000)).ok());
    EXPECT_EQ(v, 3);
  });
  EXPECT_TRUE(LeftoverSegments(prefix).empty());
}

TEST(ShmTest, RanksWithDifferentWorkspacesRefuseToStart) {
  auto store = std::make_shared<InMemoryStore>();
  std::vector<Status> results(2);
  Spawn(2, [&](int rank) {
    auto o = ShmOptions(rank, 2, "mismatch");
    if (rank == 1) o.shm_workspace_bytes *= 2;
    auto comm = MakeCommunicator(o, store);
    results[rank] = comm.status();
  });
  // The first rank to notice says why; the other may then find the first's segment gone.
  EXPECT_FALSE(results[0].ok());
  EXPECT_FALSE(results[1].ok());
  const bool explained = (results[0].code() == StatusCode::kFailedPrecondition &&
                          Contains(results[0], "shm_workspace_bytes")) ||
                         (results[1].code() == StatusCode::kFailedPrecondition &&
                          Contains(results[1], "shm_workspace_bytes"));
  EXPECT_TRUE(explained) << results[0].ToString() << "\n" << results[1].ToString();
}

TEST(ShmTest, PeerThatSkipsACollectiveGivesDeadlineExceededNamingIt) {
  auto store = std::make_shared<InMemoryStore>();
  std::atomic<bool> rank0_done{false};
  Spawn(2, [&](int rank) {
    auto comm = MakeCommunicator(ShmOptions(rank, 2, "skip"), store);
    ASSERT_TRUE(comm.ok()) << comm.status().ToString();
    if (rank == 1) {  // stays alive but never joins the all-reduce
      while (!rank0_done.load()) std::this_thread::sleep_for(milliseconds(5));
      return;
    }
    std::vector<float> data(100000, 1.0f);
    const auto start = Clock::now();
    Status s = (*comm)
                   ->AllReduce(data.data(), data.size(), DataType::kFloat32, ReduceOp::kSum)
                   ->Wait(milliseconds(5000));
    EXPECT_LT(Clock::now() - start, milliseconds(1500));
    EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded) << s.ToString();
    EXPECT_TRUE(Contains(s, "shm allreduce #0")) << s.ToString();
    EXPECT_TRUE(Contains(s, "peer rank 1")) << s.ToString();
    Status next = (*comm)
                      ->AllReduce(data.data(), 1, DataType::kFloat32, ReduceOp::kSum)
                      ->Wait(milliseconds(1000));
    EXPECT_EQ(next.code(), StatusCode::kFailedPrecondition) << next.ToString();
    rank0_done = true;
  });
}

TEST(ShmTest, PeerThatClosesItsCommunicatorFailsTheSurvivorAtOnce) {
  auto store = std::make_shared<InMemoryStore>();
  std::atomic<bool> rank1_closed{false};
  Spawn(2, [&](int rank) {
    auto o = ShmOptions(rank, 2, "close");
    o.op_timeout = milliseconds(20000);
    auto comm = MakeCommunicator(o, store);
    ASSERT_TRUE(comm.ok()) << comm.status().ToString();
    if (rank == 1) {
      comm->reset();
      rank1_closed = true;
      return;
    }
    while (!rank1_closed.load()) std::this_thread::sleep_for(milliseconds(1));
    int64_t v = 1;
    const auto start = Clock::now();
    Status s =
        (*comm)->AllReduce(&v, 1, DataType::kInt64, ReduceOp::kMax)->Wait(milliseconds(30000));
    EXPECT_LT(Clock::now() - start, milliseconds(2000)) << "should not wait for op_timeout";
    EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
    EXPECT_TRUE(Contains(s, "peer rank 1")) << s.ToString();
  });
}

TEST(ShmTest, HierarchicalRankThatSkipsIsNamedByItsGlobalRank) {
  auto store = std::make_shared<InMemoryStore>();
  std::atomic<int> finished{0};
  Spawn(4, [&](int rank) {
    auto o = ShmOptions(rank, 4, "hier-skip");
    o.host_id = "host" + std::to_string(rank % 2);  // hosts {0, 2} and {1, 3}
    auto comm = MakeCommunicator(o, store);
    ASSERT_TRUE(comm.ok()) << comm.status().ToString();
    ASSERT_EQ((*comm)->backend(), "shm+gloo");
    if (rank == 3) {  // never joins the all-reduce
      while (finished.load() < 3) std::this_thread::sleep_for(milliseconds(5));
      return;
    }
    std::vector<float> data(1000, 1.0f);
    const auto start = Clock::now();
    Status s = (*comm)
                   ->AllReduce(data.data(), data.size(), DataType::kFloat32, ReduceOp::kSum)
                   ->Wait(milliseconds(10000));
    EXPECT_LT(Clock::now() - start, milliseconds(5000));
    EXPECT_FALSE(s.ok()) << "rank " << rank;
    if (rank == 1) {  // rank 3's host-mate: local peer rank 1 is global rank 3
      EXPECT_TRUE(Contains(s, "peer rank 1")) << s.ToString();
      EXPECT_TRUE(Contains(s, "global ranks 1, 3")) << s.ToString();
    }
    finished.fetch_add(1);
  });
}

// Rank 1 of a 2-rank job in a child process, all-reducing in a loop until killed.
[[noreturn]] void RunChildRank(const std::string& dir, const std::string& prefix) {
  auto store = std::make_shared<FileStore>(dir, milliseconds(1));
  auto comm = MakeCommunicator(ShmOptions(1, 2, prefix), store);
  if (!comm.ok()) _exit(2);
  std::vector<float> data(1 << 20, 1.0f);  // 4 MB: 64 chunks of the 64 KB workspace
  for (;;) {
    Status s = (*comm)
                   ->AllReduce(data.data(), data.size(), DataType::kFloat32, ReduceOp::kSum)
                   ->Wait(milliseconds(10000));
    if (!s.ok()) _exit(3);
  }
}

TEST(ShmProcessTest, SigkilledPeerLeavesNoSegmentAndTheSurvivorFailsWithinTheTimeout) {
  char dir_template[] = "/tmp/cyclr-shm-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  const std::string prefix = UniquePrefix("sigkill");
  const pid_t child = fork();  // before this process starts any thread of its own
  ASSERT_GE(child, 0);
  if (child == 0) RunChildRank(dir, prefix);

  auto o = ShmOptions(0, 2, prefix);
  o.op_timeout = milliseconds(3000);
  auto comm = MakeCommunicator(o, std::make_shared<FileStore>(dir, milliseconds(1)));
  ASSERT_TRUE(comm.ok()) << comm.status().ToString();
  ASSERT_EQ((*comm)->backend(), "shm");
  std::atomic<int> completed{0};
  Clock::time_point killed_at;
  std::thread killer([&] {
    while (completed.load() < 5) std::this_thread::sleep_for(milliseconds(1));
    kill(child, SIGKILL);  // both ranks are (almost always) inside an all-reduce now
    killed_at = Clock::now();
    int wstatus = 0;
    waitpid(child, &wstatus, 0);
    EXPECT_TRUE(WIFSIGNALED(wstatus)) << "the child rank ended before it was killed";
  });
  std::vector<float> data(1 << 20, 1.0f);
  Status s;
  while (s.ok() && completed.load() < 100000) {
    s = (*comm)
            ->AllReduce(data.data(), data.size(), DataType::kFloat32, ReduceOp::kSum)
            ->Wait(milliseconds(20000));
    if (s.ok()) completed.fetch_add(1);
  }
  killer.join();
  const auto detected_after = Clock::now() - killed_at;
  std::printf("after %d all-reduces; survivor's error %.1f ms after the kill: %s\n",
              completed.load(), std::chrono::duration<double, std::milli>(detected_after).count(),
              s.ToString().c_str());
  EXPECT_LT(detected_after, o.op_timeout) << "the survivor should notice the exit, not time out";
  EXPECT_TRUE(s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded)
      << s.ToString();
  EXPECT_TRUE(Contains(s, "peer rank 1")) << s.ToString();
  EXPECT_TRUE(LeftoverSegments(prefix).empty());
  comm->reset();
  EXPECT_TRUE(LeftoverSegments(prefix).empty());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cyclr
