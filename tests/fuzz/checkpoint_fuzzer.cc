// Fuzzes checkpoint reading (worker/train/checkpoint.h) with well-formed LibTorch archives whose
// contents are fuzzed: the input (ByteReader records, fuzz_util.h) chooses the meta values, the
// timeline bytes, which records are missing or of the wrong shape, and the shape of the saved
// model's weight. The archive is written the way SaveCheckpoint writes it and loaded into the
// model and optimizer a worker would hold (a Linear(4, 3) with SGD momentum). Every failure must
// be a Status; an accepted checkpoint keeps the model's shapes (the Reducer's buckets were sized
// from them) and holds steps and epochs inside docs/limits.md's bounds.
//
// Raw bytes are not fed to LibTorch here: its own archive reader (zip, pickle, TorchScript source)
// crashes on damaged files in ways cyclr cannot catch (docs/limits.md, "Fuzzing").
#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/limits.h"
#include "tests/fuzz/fuzz_util.h"
#include "worker/train/checkpoint.h"

namespace {

using cyclr::fuzz::ByteReader;

torch::Tensor Int64(int64_t v) { return torch::tensor({v}, torch::kInt64); }

// One meta record: usually one int64, sometimes missing, two of them or a double.
void WriteMeta(torch::serialize::OutputArchive& a, const std::string& key, ByteReader& in) {
  const uint8_t how = in.Byte();
  const int64_t v = in.Int64();
  switch (how % 8) {
    case 0:
      return;  // missing
    case 1:
      a.write(key, torch::tensor({v, v}, torch::kInt64));
      return;
    case 2:
      a.write(key, torch::tensor({static_cast<double>(v) * 0.5}, torch::kDouble));
      return;
    default:
      a.write(key, Int64(v));
      return;
  }
}

// The archive SaveCheckpoint writes, from a model whose weight has the chosen shape.
std::string Archive(ByteReader& in) {
  const uint8_t shape = in.Byte();
  const int64_t rows = shape & 0x80 ? (shape & 7) + 1 : 3;
  const int64_t cols = shape & 0x80 ? (shape >> 3 & 7) + 1 : 4;
  torch::manual_seed(2);
  torch::nn::Linear model(torch::nn::LinearOptions(cols, rows));
  torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  if (in.Byte() & 1) {  // momentum buffers exist
    opt.zero_grad();
    model->forward(torch::ones({2, cols})).sum().backward();
    opt.step();
  }
  torch::serialize::OutputArchive archive, model_archive, optimizer_archive;
  model->save(model_archive);
  opt.save(optimizer_archive);
  const uint8_t parts = in.Byte();
  if (!(parts & 1)) archive.write("model", model_archive);
  if (!(parts & 2)) archive.write("optimizer", optimizer_archive);
  WriteMeta(archive, "meta.format", in);
  for (const char* key : {"meta.step", "meta.epoch", "meta.step_in_epoch", "meta.seed"}) {
    WriteMeta(archive, key, in);
  }
  std::string timeline = in.Bytes();
  if (!(parts & 4)) {
    archive.write(
        "meta.timeline",
        torch::from_blob(timeline.data(), {static_cast<int64_t>(timeline.size())}, torch::kUInt8)
            .clone());
  }
  std::string out;
  archive.save_to([&out](const void* data, size_t n) {
    out.append(static_cast<const char*>(data), n);
    return n;
  });
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  torch::set_num_threads(1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cyclr;
  ByteReader in(data, size);
  const std::string bytes = Archive(in);
  const std::string path = fuzz::WriteScratchFile(reinterpret_cast<const uint8_t*>(bytes.data()),
                                                  bytes.size(), "ckpt-000000000001.pt");
  torch::manual_seed(1);
  torch::nn::Linear model(4, 3);
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  std::vector<std::vector<int64_t>> shapes;
  for (const torch::Tensor& p : model->parameters()) shapes.push_back(p.sizes().vec());
  StatusOr<CheckpointMeta> meta = LoadCheckpoint(path, *model, optimizer);
  if (!meta.ok()) {
    FUZZ_REQUIRE(meta.status().code() == StatusCode::kInvalidArgument, meta.status().ToString());
    return 0;
  }
  size_t i = 0;
  for (const torch::Tensor& p : model->parameters()) {
    FUZZ_REQUIRE(i < shapes.size() && p.sizes().vec() == shapes[i],
                 "a parameter changed its shape on load");
    ++i;
  }
  fuzz::RequireInRange("step", meta->step, 0, limits::kMaxStep);
  fuzz::RequireInRange("epoch", meta->epoch, 0, limits::kMaxEpochs);
  fuzz::RequireInRange("step_in_epoch", meta->step_in_epoch, 0, limits::kMaxStep);
  return 0;
}
