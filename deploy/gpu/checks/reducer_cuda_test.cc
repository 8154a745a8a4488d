// The Reducer on CUDA tensors over the NCCL communicator, world size 1 (one H200: NCCL refuses
// two ranks on one GPU). Run by deploy/gpu/run.sh; needs a CUDA device and a CUDA LibTorch.
//
// What world size 1 can show: the Reducer accepts CUDA parameters on backend "nccl" (and refuses
// CPU ones), its bucket views and hooks work on device memory, the NCCL all-reduce and broadcast
// of device buckets complete, and training with it gives the parameters of training without it.
// What it cannot show: averaging across ranks, and ordering between LibTorch's compute stream and
// the communicator's own stream (an in-place all-reduce over one rank leaves the data as it is).
#include <memory>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "worker/comm/communicator_factory.h"
#include "worker/comm/in_memory_store.h"
#include "worker/ddp/reducer.h"

namespace cyclr {
namespace {

torch::nn::Sequential MakeNet() {
  return torch::nn::Sequential(torch::nn::Flatten(), torch::nn::Linear(784, 512),
                               torch::nn::ReLU(), torch::nn::Linear(512, 64), torch::nn::ReLU(),
                               torch::nn::Linear(64, 10));
}

void CopyParams(torch::nn::Module& from, torch::nn::Module& to) {
  torch::NoGradGuard no_grad;
  auto src = from.parameters();
  auto dst = to.parameters();
  for (size_t i = 0; i < src.size(); ++i) dst[i].copy_(src[i]);
}

class ReducerCudaTest : public ::testing::TestWithParam<size_t> {
 protected:
  void SetUp() override {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "LibTorch sees no CUDA device";
    if (CudaDeviceCount() < 1) GTEST_SKIP() << "the communicator sees no CUDA device";
    CommunicatorOptions o;
    o.backend = "nccl";
    o.rank = 0;
    o.world_size = 1;
    o.cuda_device = 0;
    auto made = MakeCommunicator(o, std::make_shared<InMemoryStore>());
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    comm_ = std::move(made).value();
  }
  std::unique_ptr<Communicator> comm_;
};

TEST_P(ReducerCudaTest, RefusesCpuParameters) {
  auto net = MakeNet();
  auto r = Reducer::ForModule(*net, comm_.get(), ReducerOptions{});
  EXPECT_FALSE(r.ok());
}

TEST_P(ReducerCudaTest, TrainingMatchesTrainingWithoutReducer) {
  const torch::Device dev(torch::kCUDA, 0);
  torch::manual_seed(7);
  auto net = MakeNet();
  auto ref = MakeNet();
  CopyParams(*net, *ref);
  net->to(dev);
  ref->to(dev);
  ReducerOptions ro;
  ro.bucket_cap_bytes = GetParam();
  ro.first_bucket_cap_bytes = std::min<size_t>(GetParam(), ro.first_bucket_cap_bytes);
  auto made = Reducer::ForModule(*net, comm_.get(), ro);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  std::unique_ptr<Reducer> reducer = std::move(made).value();
  ASSERT_TRUE(reducer->BroadcastParameters(0).ok());
  torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  torch::optim::SGD ref_opt(ref->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  auto gen = at::detail::createCPUGenerator(11);
  for (int step = 0; step < 30; ++step) {
    torch::Tensor x = torch::randn({256, 1, 28, 28}, gen).to(dev);
    torch::Tensor y = torch::randint(0, 10, {256}, gen).to(dev);
    for (auto& p : net->parameters()) {
      if (p.grad().defined()) p.mutable_grad().zero_();
    }
    ref_opt.zero_grad();
    torch::nn::functional::cross_entropy(net->forward(x), y).backward();
    Status s = reducer->FinishBackward();
    ASSERT_TRUE(s.ok()) << s.ToString();
    torch::nn::functional::cross_entropy(ref->forward(x), y).backward();
    auto got = net->parameters();
    auto want = ref->parameters();
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_TRUE(got[i].grad().is_cuda());
      ASSERT_TRUE(torch::allclose(got[i].grad(), want[i].grad(), 1e-5, 1e-6))
          << "step " << step << " param " << i;
    }
    opt.step();
    ref_opt.step();
  }
  auto got = net->parameters();
  auto want = ref->parameters();
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_TRUE(torch::allclose(got[i], want[i], 1e-5, 1e-6)) << "param " << i;
  }
  EXPECT_GE(reducer->last_step_stats().buckets, 1);
}

// One parameter per bucket, a few buckets, one bucket.
INSTANTIATE_TEST_SUITE_P(BucketCaps, ReducerCudaTest,
                         ::testing::Values(size_t{1}, size_t{300000}, size_t{1} << 30));

}  // namespace
}  // namespace cyclr
