// Reducer: bucket layout, overlap, the piggybacked MIN, and misuse that must fail clearly.
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/worker/comm/spawn.h"
#include "worker/comm/communicator_factory.h"
#include "worker/comm/in_memory_store.h"
#include "worker/ddp/reducer.h"

namespace cyclr {
namespace {

using std::chrono::milliseconds;

std::unique_ptr<Communicator> MustMake(int rank, int world, std::shared_ptr<Store> store) {
  CommunicatorOptions o;
  o.rank = rank;
  o.world_size = world;
  auto comm = MakeCommunicator(o, std::move(store));
  CYCLR_CHECK_MSG(comm.ok(), comm.status().ToString());
  return std::move(comm).value();
}

torch::nn::Sequential MakeModel() {
  return torch::nn::Sequential(torch::nn::Linear(4, 32), torch::nn::ReLU(),
                               torch::nn::Linear(32, 32), torch::nn::ReLU(),
                               torch::nn::Linear(32, 2));
}

TEST(ReducerMiscTest, TinyBucketsOverlapBackwardAndBucketsFollowReverseOrder) {
  torch::set_num_threads(1);
  auto store = std::make_shared<InMemoryStore>();
  testing::Spawn(2, [&](int rank) {
    auto comm = MustMake(rank, 2, store);
    auto model = MakeModel();
    ReducerOptions o;
    o.first_bucket_cap_bytes = 1;
    o.bucket_cap_bytes = 1;
    auto reducer = Reducer::ForModule(*model, comm.get(), o);
    ASSERT_TRUE(reducer.ok()) << reducer.status().ToString();
    const auto& buckets = (*reducer)->buckets();
    ASSERT_EQ(buckets.size(), 6u);
    EXPECT_EQ(buckets.front(), std::vector<size_t>{5});  // last bias first
    EXPECT_EQ(buckets.back(), std::vector<size_t>{0});
    ASSERT_TRUE((*reducer)->BroadcastParameters(0).ok());
    model->forward(torch::ones({3, 4}) * (rank + 1)).sum().backward();
    ASSERT_TRUE((*reducer)->FinishBackward().ok());
    const auto& stats = (*reducer)->last_step_stats();
    EXPECT_EQ(stats.buckets, 6);
    EXPECT_EQ(stats.launched_during_backward, 6) << "every bucket should launch inside backward";
    EXPECT_GE(stats.allreduce_ms, 0.0);
    EXPECT_GE(stats.wait_ms, 0.0);
  });
}

TEST(ReducerMiscTest, AllReduceMinPiggybacksInt64s) {
  auto store = std::make_shared<InMemoryStore>();
  testing::Spawn(3, [&](int rank) {
    auto comm = MustMake(rank, 3, store);
    auto model = MakeModel();
    auto reducer = Reducer::ForModule(*model, comm.get(), ReducerOptions());
    ASSERT_TRUE(reducer.ok());
    std::vector<int64_t> versions = {10 - rank, 7 + rank};
    ASSERT_TRUE((*reducer)->AllReduceMin(versions.data(), versions.size()).ok());
    EXPECT_EQ(versions, (std::vector<int64_t>{8, 7}));
  });
}

TEST(ReducerMiscTest, SecondBackwardWithoutFinishIsFailedPrecondition) {
  auto store = std::make_shared<InMemoryStore>();
  auto comm = MustMake(0, 1, store);
  auto model = MakeModel();
  auto reducer = Reducer::ForModule(*model, comm.get(), ReducerOptions());
  ASSERT_TRUE(reducer.ok());
  model->forward(torch::ones({1, 4})).sum().backward();
  model->forward(torch::ones({1, 4})).sum().backward();
  Status s = (*reducer)->FinishBackward();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.message().find("twice"), std::string::npos) << s.ToString();
  // The next step is clean again.
  model->zero_grad();
  model->forward(torch::ones({1, 4})).sum().backward();
  EXPECT_TRUE((*reducer)->FinishBackward().ok());
}

TEST(ReducerMiscTest, RejectsNonFloat32ParameterNamingIt) {
  auto comm = MustMake(0, 1, std::make_shared<InMemoryStore>());
  auto good = torch::zeros({2}, torch::requires_grad());
  auto bad = torch::zeros({2}, torch::dtype(torch::kFloat64).requires_grad(true));
  auto reducer = Reducer::Create({good, bad}, {}, comm.get(), ReducerOptions());
  ASSERT_FALSE(reducer.ok());
  EXPECT_EQ(reducer.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(reducer.status().message().find("parameter 1"), std::string::npos)
      << reducer.status().ToString();
  EXPECT_FALSE(good.grad().defined()) << "a rejected Create must not touch the parameters";
}

TEST(ReducerMiscTest, BroadcastParametersCopiesRootWeightsAndBuffers) {
  auto store = std::make_shared<InMemoryStore>();
  std::vector<torch::Tensor> got(2);
  testing::Spawn(2, [&](int rank) {
    auto comm = MustMake(rank, 2, store);
    auto w = torch::full({3}, static_cast<float>(rank + 1), torch::requires_grad());
    auto counter = torch::full({1}, int64_t{100 + rank}, torch::kInt64);
    auto reducer = Reducer::Create({w}, {counter}, comm.get(), ReducerOptions());
    ASSERT_TRUE(reducer.ok());
    ASSERT_TRUE((*reducer)->BroadcastParameters(1).ok());
    EXPECT_TRUE(torch::equal(w.detach(), torch::full({3}, 2.0f)));
    EXPECT_EQ(counter.item<int64_t>(), 101);
  });
}

}  // namespace
}  // namespace cyclr
