// Host detection from the rendezvous, and the backend MakeCommunicator() picks from it.
#include "worker/comm/host_layout.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/worker/comm/spawn.h"
#include "worker/comm/communicator_factory.h"
#include "worker/comm/in_memory_store.h"

namespace cyclr {
namespace {

using std::chrono::milliseconds;

TEST(HostLayoutTest, GroupsRanksByIdAndNumbersHostsByTheirLowestRank) {
  HostLayout l = LayoutFromHostIds({"b", "a", "b", "c", "a"});
  ASSERT_EQ(l.num_hosts(), 3);
  EXPECT_EQ(l.host_of_rank, (std::vector<int>{0, 1, 0, 2, 1}));
  EXPECT_EQ(l.ranks_of_host[0], (std::vector<int>{0, 2}));
  EXPECT_EQ(l.ranks_of_host[1], (std::vector<int>{1, 4}));
  EXPECT_EQ(l.ranks_of_host[2], (std::vector<int>{3}));
  EXPECT_EQ(l.local_rank(4), 1);
  EXPECT_EQ(l.local_rank(3), 0);
  EXPECT_EQ(l.leader(1), 1);
}

TEST(HostLayoutTest, LocalHostIdIsStableAndNamesTheBoot) {
  const std::string id = LocalHostId();
  EXPECT_EQ(id, LocalHostId());
  EXPECT_NE(id.find("/shm:"), std::string::npos) << id;
}

// Makes a communicator on every rank with the given host ids and returns their backend() names.
std::vector<std::string> BackendsFor(const std::vector<std::string>& host_ids, ShmMode shm) {
  auto store = std::make_shared<InMemoryStore>();
  const int size = static_cast<int>(host_ids.size());
  std::vector<std::string> names(size);
  testing::Spawn(size, [&](int rank) {
    CommunicatorOptions o;
    o.rank = rank;
    o.world_size = size;
    o.shm = shm;
    o.host_id = host_ids[rank];
    o.rendezvous_timeout = milliseconds(10000);
    auto comm = MakeCommunicator(o, store);
    ASSERT_TRUE(comm.ok()) << comm.status().ToString();
    names[rank] = (*comm)->backend();
    float x = 1.0f;  // and it works
    ASSERT_TRUE((*comm)
                    ->AllReduce(&x, 1, DataType::kFloat32, ReduceOp::kSum)
                    ->Wait(milliseconds(10000))
                    .ok());
    EXPECT_EQ(x, static_cast<float>(size));
  });
  return names;
}

TEST(CommunicatorFactoryShmTest, OneHostGivesShm) {
  EXPECT_EQ(BackendsFor({"h", "h", "h"}, ShmMode::kAuto),
            (std::vector<std::string>{"shm", "shm", "shm"}));
}

TEST(CommunicatorFactoryShmTest, OneRankPerHostGivesGloo) {
  EXPECT_EQ(BackendsFor({"a", "b", "c"}, ShmMode::kAuto),
            (std::vector<std::string>{"gloo", "gloo", "gloo"}));
}

TEST(CommunicatorFactoryShmTest, SharedAndSeparateHostsGiveShmPlusGloo) {
  EXPECT_EQ(BackendsFor({"a", "b", "a"}, ShmMode::kAuto),
            (std::vector<std::string>{"shm+gloo", "shm+gloo", "shm+gloo"}));
}

TEST(CommunicatorFactoryShmTest, ShmOffGivesGlooOnOneHost) {
  EXPECT_EQ(BackendsFor({"h", "h"}, ShmMode::kOff), (std::vector<std::string>{"gloo", "gloo"}));
}

TEST(CommunicatorFactoryShmTest, RejectsATinyWorkspaceNamingTheField) {
  CommunicatorOptions o;
  o.shm_workspace_bytes = 100;
  auto comm = MakeCommunicator(o, std::make_shared<InMemoryStore>());
  ASSERT_FALSE(comm.ok());
  EXPECT_EQ(comm.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(comm.status().message().find("shm_workspace_bytes"), std::string::npos);
}

}  // namespace
}  // namespace cyclr
