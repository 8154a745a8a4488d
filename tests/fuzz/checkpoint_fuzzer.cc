// Fuzzes checkpoint reading (worker/train/checkpoint.h): the input is a checkpoint file, loaded
// into the model and optimizer a worker would hold (a Linear(4, 3) with SGD momentum here, as the
// seed was written by tests/fuzz/make_corpus.cc). Every failure must be a Status (LibTorch's
// exceptions stay inside LoadCheckpoint); an accepted checkpoint keeps the model's shapes and
// holds steps and epochs inside docs/limits.md's bounds, so the trainer can resume from it.
#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/limits.h"
#include "tests/fuzz/fuzz_util.h"
#include "worker/train/checkpoint.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  torch::set_num_threads(1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cyclr;
  torch::manual_seed(1);
  torch::nn::Linear model(4, 3);
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  std::vector<std::vector<int64_t>> shapes;
  for (const torch::Tensor& p : model->parameters()) shapes.push_back(p.sizes().vec());
  const std::string path = fuzz::WriteScratchFile(data, size, "ckpt-000000000001.pt");
  StatusOr<CheckpointMeta> meta = LoadCheckpoint(path, *model, optimizer);
  if (!meta.ok()) {
    FUZZ_REQUIRE(meta.status().code() == StatusCode::kInvalidArgument, meta.status().ToString());
    return 0;
  }
  size_t i = 0;
  for (const torch::Tensor& p : model->parameters()) {
    FUZZ_REQUIRE(i < shapes.size() && p.sizes().vec() == shapes[i++],
                 "a parameter changed its shape on load");
  }
  fuzz::RequireInRange("step", meta->step, 0, limits::kMaxStep);
  fuzz::RequireInRange("epoch", meta->epoch, 0, limits::kMaxEpochs);
  fuzz::RequireInRange("step_in_epoch", meta->step_in_epoch, 0, limits::kMaxStep);
  return 0;
}
