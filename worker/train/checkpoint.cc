#include "worker/train/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>

#include "core/job_name.h"
#include "core/limits.h"
#include "core/safe_file.h"

namespace cyclr {
namespace fs = std::filesystem;
namespace {

constexpr int64_t kFormatVersion = 1;

std::string FileName(int64_t step) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "ckpt-%012lld.pt", static_cast<long long>(step));
  return buf;
}

bool IsCheckpointName(const std::string& name) {
  return name.size() == 20 && name.rfind("ckpt-", 0) == 0 && name.substr(17) == ".pt";
}

torch::Tensor Int64(int64_t v) { return torch::tensor({v}, torch::kInt64); }

int64_t ReadInt64(torch::serialize::InputArchive& a, const std::string& key) {
  torch::Tensor t;
  a.read(key, t);
  return t.item<int64_t>();
}

// The shape of every parameter and buffer, by name.
std::vector<std::pair<std::string, std::vector<int64_t>>> Shapes(const torch::nn::Module& model) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  for (const auto& p : model.named_parameters()) out.emplace_back(p.key(), p.value().sizes().vec());
  for (const auto& b : model.named_buffers()) out.emplace_back(b.key(), b.value().sizes().vec());
  return out;
}

// What a file may not change: the model's shapes (the Reducer sized its buckets from them before
// the load) and steps and epochs outside docs/limits.md's bounds (the trainer indexes with them).
Status CheckLoaded(const std::string& path, const torch::nn::Module& model,
                   const std::vector<std::pair<std::string, std::vector<int64_t>>>& shapes,
                   const CheckpointMeta& meta) {
  if (Shapes(model) != shapes) {
    return Status::InvalidArgument(path + ": the model's parameters have other shapes");
  }
  struct Field {
    const char* name;
    int64_t value, max;
  };
  for (const Field& f :
       {Field{"step", meta.step, limits::kMaxStep}, Field{"epoch", meta.epoch, limits::kMaxEpochs},
        Field{"step_in_epoch", meta.step_in_epoch, limits::kMaxStep}}) {
    if (f.value < 0 || f.value > f.max) {
      return Status::InvalidArgument(path + ": " + f.name + " (" + std::to_string(f.value) +
                                     ") must be between 0 and " + std::to_string(f.max));
    }
  }
  return Status::Ok();
}

}  // namespace

std::vector<std::string> ListCheckpoints(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (IsCheckpointName(entry.path().filename().string())) out.push_back(entry.path().string());
  }
  std::sort(out.begin(), out.end());  // zero-padded steps sort by name
  return out;
}

StatusOr<std::string> NewestCheckpoint(const std::string& dir) {
  std::vector<std::string> all = ListCheckpoints(dir);
  if (all.empty()) return Status::NotFound("no checkpoint in " + dir);
  return all.back();
}

StatusOr<std::string> CheckpointAtOrBefore(const std::string& dir, int64_t step) {
  std::vector<std::string> all = ListCheckpoints(dir);
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    // ckpt-<12 digits>.pt
    if (std::stoll(fs::path(*it).filename().string().substr(5, 12)) <= step) return *it;
  }
  return Status::NotFound("no checkpoint in " + dir + " at or before step " + std::to_string(step));
}

namespace {

// The ledger of the checkpoints `owner` wrote in `dir` ("" for no valid owner).
std::string LedgerPath(const std::string& dir, const std::string& owner) {
  return CheckJobName(owner, "owner").ok() ? dir + "/.cyclr-owner-" + owner : "";
}

// Appends `name` to the ledger (created 0600, never through a link).
Status Record(const std::string& ledger, const std::string& name) {
  if (ledger.empty()) return Status::Ok();
  const int fd =
      ::open(ledger.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Internal("open " + ledger + ": " + std::strerror(errno));
  const std::string line = name + "\n";
  const bool ok = WriteAll(fd, line.data(), line.size()) && ::fsync(fd) == 0;
  ::close(fd);
  return ok ? Status::Ok() : Status::Internal("write " + ledger + ": " + std::strerror(errno));
}

// The file names a ledger records (none for "").
std::set<std::string> Recorded(const std::string& ledger) {
  std::set<std::string> recorded;
  if (ledger.empty()) return recorded;
  std::ifstream in(ledger);
  for (std::string line; std::getline(in, line);) recorded.insert(line);
  return recorded;
}

// Deletes all but the newest `keep` checkpoints of the ledger (every one of this user's without
// a ledger); never another user's file, never through a link.
void Prune(const std::string& dir, const std::string& ledger, int keep) {
  std::vector<std::string> mine;
  const std::set<std::string> recorded = Recorded(ledger);
  for (const std::string& path : ListCheckpoints(dir)) {
    const bool ours = ledger.empty() || recorded.count(fs::path(path).filename().string()) > 0;
    if (ours && IsOwnRegularFile(path)) mine.push_back(path);
  }
  std::error_code ec;
  for (size_t i = 0; i + std::max(keep, 1) < mine.size(); ++i) fs::remove(mine[i], ec);
}

}  // namespace

StatusOr<std::string> NewestCheckpointOf(const std::string& dir, const std::string& owner) {
  const std::set<std::string> recorded = Recorded(LedgerPath(dir, owner));
  std::vector<std::string> all = ListCheckpoints(dir);
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if (recorded.count(fs::path(*it).filename().string())) return *it;
  }
  return NewestCheckpoint(dir);
}

StatusOr<std::string> SaveCheckpoint(const std::string& dir, const CheckpointMeta& meta,
                                     torch::nn::Module& model,
                                     const torch::optim::Optimizer& optimizer, int keep,
                                     const std::string& owner) {
  CYCLR_RETURN_IF_ERROR(MakePrivateDirs(dir));
  torch::serialize::OutputArchive archive, model_archive, optimizer_archive;
  model.save(model_archive);
  optimizer.save(optimizer_archive);
  archive.write("model", model_archive);
  archive.write("optimizer", optimizer_archive);
  archive.write("meta.format", Int64(kFormatVersion));
  {
    // The CPU generator draws dropout masks: a resumed run continues its sequence. All ranks seed
    // it alike and draw alike, so rank 0's state is every rank's.
    at::Generator gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    archive.write("rng.cpu", gen.get_state());
  }
  archive.write("meta.step", Int64(meta.step));
  archive.write("meta.epoch", Int64(meta.epoch));
  archive.write("meta.step_in_epoch", Int64(meta.step_in_epoch));
  archive.write("meta.seed", Int64(static_cast<int64_t>(meta.seed)));
  std::string timeline = meta.timeline.SerializeAsString();
  archive.write(
      "meta.timeline",
      torch::from_blob(timeline.data(), {static_cast<int64_t>(timeline.size())}, torch::kUInt8)
          .clone());

  const std::string path = dir + "/" + FileName(meta.step);
  const std::string ledger = LedgerPath(dir, owner);
  CYCLR_RETURN_IF_ERROR(Record(ledger, FileName(meta.step)));  // before: a crash leaks no file
  CYCLR_RETURN_IF_ERROR(WriteFileAtomically(path, [&](int fd) {
    bool write_ok = true;
    archive.save_to([&](const void* data, size_t n) -> size_t {
      write_ok = write_ok && WriteAll(fd, data, n);
      return n;  // a short count would make LibTorch throw; the error is reported instead
    });
    return write_ok;
  }));
  Prune(dir, ledger, keep);
  return path;
}

Status LoadModelWeights(const std::string& path, torch::nn::Module& model) {
  if (!fs::exists(path)) return Status::NotFound(path + ": no such checkpoint");
  try {
    torch::serialize::InputArchive archive, model_archive;
    archive.load_from(path);
    if (ReadInt64(archive, "meta.format") != kFormatVersion) {
      return Status::InvalidArgument(path + ": unknown checkpoint format");
    }
    archive.read("model", model_archive);
    const auto shapes = Shapes(model);
    model.load(model_archive);
    if (Shapes(model) != shapes) {
      return Status::InvalidArgument(path + ": the model's parameters have other shapes");
    }
    return Status::Ok();
  } catch (const std::exception& e) {  // c10::Error and TorchScript's errors alike
    return Status::InvalidArgument(
        path + ": not a readable checkpoint: " + std::string(e.what()).substr(0, 300));
  }
}

StatusOr<CheckpointMeta> LoadCheckpoint(const std::string& path, torch::nn::Module& model,
                                        torch::optim::Optimizer& optimizer) {
  if (!fs::exists(path)) return Status::NotFound(path + ": no such checkpoint");
  try {
    torch::serialize::InputArchive archive, model_archive, optimizer_archive;
    archive.load_from(path);
    if (ReadInt64(archive, "meta.format") != kFormatVersion) {
      return Status::InvalidArgument(path + ": unknown checkpoint format");
    }
    archive.read("model", model_archive);
    archive.read("optimizer", optimizer_archive);
    const auto shapes = Shapes(model);
    model.load(model_archive);
    optimizer.load(optimizer_archive);
    CheckpointMeta meta;
    meta.step = ReadInt64(archive, "meta.step");
    meta.epoch = ReadInt64(archive, "meta.epoch");
    meta.step_in_epoch = ReadInt64(archive, "meta.step_in_epoch");
    meta.seed = static_cast<uint64_t>(ReadInt64(archive, "meta.seed"));
    torch::Tensor bytes;
    archive.read("meta.timeline", bytes);
    bytes = bytes.contiguous();
    if (!meta.timeline.ParseFromArray(bytes.data_ptr(), static_cast<int>(bytes.numel()))) {
      return Status::InvalidArgument(path + ": corrupt timeline");
    }
    CYCLR_RETURN_IF_ERROR(CheckLoaded(path, model, shapes, meta));
    torch::Tensor rng;
    if (archive.try_read("rng.cpu", rng)) {  // absent in checkpoints written before it was kept
      at::Generator gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(rng);  // throws on a state of the wrong size: caught below
    }
    return meta;
  } catch (const c10::Error& e) {
    // LibTorch reports a truncated or foreign file by throwing; keep it at this edge.
    return Status::InvalidArgument(path +
                                   ": not a readable checkpoint: " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    // Not every LibTorch error is a c10::Error: a damaged TorchScript header throws
    // torch::jit::ErrorReport (found by tests/fuzz/checkpoint_fuzzer).
    return Status::InvalidArgument(path + ": not a readable checkpoint: " + e.what());
  }
}

}  // namespace cyclr
