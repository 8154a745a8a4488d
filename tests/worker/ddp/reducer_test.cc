// Reducer with 2-4 ranks as threads over each CPU setup (tests/worker/comm/comm_setup.h: Gloo on
// 127.0.0.1, shared memory, shared memory + Gloo across two pretend hosts): each rank has its own
// model (same weights after BroadcastParameters) and its own data; after backward +
// FinishBackward every rank's gradients must equal the average of the per-rank gradients
// computed without a reducer.
#include <memory>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/worker/comm/comm_setup.h"
#include "tests/worker/comm/spawn.h"
#include "worker/comm/communicator_factory.h"
#include "worker/comm/in_memory_store.h"
#include "worker/ddp/reducer.h"

namespace cyclr {
namespace {

using std::chrono::milliseconds;

// fc1 → fc2 → (optional extra) → fc3. `extra` sits in the middle of the parameter list, so when
// it is unused it blocks the in-order launch of the buckets behind it.
struct NetImpl : torch::nn::Module {
  NetImpl() {
    fc1 = register_module("fc1", torch::nn::Linear(6, 16));
    fc2 = register_module("fc2", torch::nn::Linear(16, 8));
    extra = register_module("extra", torch::nn::Linear(8, 8));
    fc3 = register_module("fc3", torch::nn::Linear(8, 3));
  }
  torch::Tensor forward(torch::Tensor x, bool use_extra) {
    auto h = torch::relu(fc2(torch::relu(fc1(x))));
    if (use_extra) h = h + extra(h);
    return fc3(h);
  }
  torch::nn::Linear fc1{nullptr}, fc2{nullptr}, extra{nullptr}, fc3{nullptr};
};
TORCH_MODULE(Net);

struct Batch {
  torch::Tensor x, y;
};
// Rank- and step-specific data, from a private generator (the global one is shared by threads).
Batch MakeBatch(int rank, int step) {
  auto gen = at::detail::createCPUGenerator(1000 * step + rank);
  return {torch::randn({5, 6}, gen), torch::randn({5, 3}, gen)};
}

torch::Tensor Loss(Net& net, const Batch& b, bool use_extra) {
  return torch::mse_loss(net->forward(b.x, use_extra), b.y);
}

// The average over ranks of each parameter's gradient, computed on a copy without a reducer.
std::vector<torch::Tensor> ReferenceGrads(Net& net, int world, int step,
                                          const std::function<bool(int)>& use_extra) {
  Net ref;
  {
    torch::NoGradGuard no_grad;
    auto src = net->parameters();
    auto dst = ref->parameters();
    for (size_t i = 0; i < src.size(); ++i) dst[i].copy_(src[i]);
  }
  for (int r = 0; r < world; ++r) Loss(ref, MakeBatch(r, step), use_extra(r)).backward();
  std::vector<torch::Tensor> grads;
  for (auto& p : ref->parameters()) {
    grads.push_back(p.grad().defined() ? p.grad() / world : torch::zeros_like(p));
  }
  return grads;
}

// (setup, world size, first bucket cap)
class ReducerTest : public ::testing::TestWithParam<std::tuple<std::string, int, size_t>> {
 protected:
  void SetUp() override { torch::set_num_threads(1); }
  const std::string& setup() const { return std::get<0>(GetParam()); }
  int world() const { return std::get<1>(GetParam()); }
  ReducerOptions Options() const {
    ReducerOptions o;
    o.first_bucket_cap_bytes = std::get<2>(GetParam());
    o.bucket_cap_bytes = 2 * std::get<2>(GetParam());
    o.timeout = milliseconds(20000);
    return o;
  }
  // Runs fn(rank, net, reducer) on every rank after rendezvous and the initial broadcast.
  void RunRanks(const std::function<void(int, Net&, Reducer&)>& fn) {
    auto store = std::make_shared<InMemoryStore>();
    testing::Spawn(world(), [&](int rank) {
      CommunicatorOptions co;
      co.rank = rank;
      co.world_size = world();
      testing::ApplyCommSetup(setup(), rank, &co);
      auto comm = MakeCommunicator(co, store);
      ASSERT_TRUE(comm.ok()) << comm.status().ToString();
      ASSERT_EQ((*comm)->backend(), setup());
      Net net;  // different random init on every rank
      auto reducer = Reducer::ForModule(*net, comm->get(), Options());
      ASSERT_TRUE(reducer.ok()) << reducer.status().ToString();
      ASSERT_TRUE((*reducer)->BroadcastParameters(0).ok());
      fn(rank, net, **reducer);
    });
  }
};

TEST_P(ReducerTest, GradsEqualTheAverageOfPerRankGrads) {
  auto use_extra = [](int r) { return r % 2 == 0; };  // rank 1 never touches `extra`
  RunRanks([&](int rank, Net& net, Reducer& reducer) {
    for (int step = 0; step < 3; ++step) {
      auto want = ReferenceGrads(net, world(), step, use_extra);
      net->zero_grad();
      Loss(net, MakeBatch(rank, step), use_extra(rank)).backward();
      Status s = reducer.FinishBackward();
      ASSERT_TRUE(s.ok()) << s.ToString();
      auto params = net->parameters();
      for (size_t i = 0; i < params.size(); ++i) {
        EXPECT_TRUE(torch::allclose(params[i].grad(), want[i], 1e-5, 1e-6))
            << "rank " << rank << " step " << step << " param " << i << "\n"
            << params[i].grad() << "\nwant\n" << want[i];
      }
      EXPECT_EQ(reducer.last_step_stats().buckets, static_cast<int>(reducer.buckets().size()));
    }
  });
}

TEST_P(ReducerTest, ParamsStayIdenticalThroughSgdSteps) {
  std::vector<std::vector<torch::Tensor>> final_params(world());
  std::vector<torch::Tensor> initial;
  RunRanks([&](int rank, Net& net, Reducer& reducer) {
    if (rank == 0) {
      for (auto& p : net->parameters()) initial.push_back(p.detach().clone());
    }
    torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
    for (int step = 0; step < 5; ++step) {
      // Every way of clearing grads must keep working with bucket-backed grads.
      if (step % 3 == 0) sgd.zero_grad();  // detach_() + zero_()
      if (step % 3 == 1) net->zero_grad(/*set_to_none=*/true);
      if (step % 3 == 2) net->zero_grad(/*set_to_none=*/false);
      Loss(net, MakeBatch(rank, step), true).backward();
      ASSERT_TRUE(reducer.FinishBackward().ok());
      sgd.step();
    }
    for (auto& p : net->parameters()) final_params[rank].push_back(p.detach().clone());
  });
  ASSERT_EQ(final_params[0].size(), initial.size());
  bool moved = false;
  for (size_t i = 0; i < initial.size(); ++i) {
    moved = moved || !torch::equal(final_params[0][i], initial[i]);
    for (int r = 1; r < world(); ++r) {
      EXPECT_TRUE(torch::equal(final_params[r][i], final_params[0][i])) << "rank " << r << " param " << i;
    }
  }
  EXPECT_TRUE(moved) << "training did not change the parameters";
}

TEST_P(ReducerTest, ParameterUnusedOnEveryRankDoesNotHangAndGetsZeroGrad) {
  RunRanks([&](int rank, Net& net, Reducer& reducer) {
    net->zero_grad();
    Loss(net, MakeBatch(rank, 0), false).backward();
    ASSERT_TRUE(reducer.FinishBackward().ok());
    EXPECT_EQ(net->extra->weight.grad().abs().sum().item<float>(), 0.0f);
    EXPECT_GT(net->fc1->weight.grad().abs().sum().item<float>(), 0.0f);
  });
}

// Bucket caps: one param per bucket, a few buckets, one bucket.
const auto kBucketCaps = ::testing::Values(size_t{1}, size_t{300}, size_t{1} << 30);
INSTANTIATE_TEST_SUITE_P(Gloo, ReducerTest,
                         ::testing::Combine(::testing::Values("gloo"), ::testing::Values(2, 3),
                                            kBucketCaps));
INSTANTIATE_TEST_SUITE_P(Shm, ReducerTest,
                         ::testing::Combine(::testing::Values("shm"), ::testing::Values(2, 3),
                                            kBucketCaps));
INSTANTIATE_TEST_SUITE_P(ShmGloo, ReducerTest,
                         ::testing::Combine(::testing::Values("shm+gloo"), ::testing::Values(3, 4),
                                            kBucketCaps));

}  // namespace
}  // namespace cyclr
