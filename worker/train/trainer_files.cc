// Trainer's files: the data it loads, the per-step log, the parameters written at the end, the
// model file every rank must share and the trained model it exports (trainer.h).
#include <filesystem>
#include <fstream>

#include "core/npy_dataset_files.h"
#include "worker/train/npy_dataset.h"
#include "worker/train/trainer.h"
#include "core/safe_file.h"

namespace cyclr {

StatusOr<Dataset> Trainer::LoadSplit(Split split) const {
  const v1::JobSpec& spec = options_.spec;
  int64_t limit = split == Split::kTrain ? spec.train_limit() : spec.test_limit();
  if (spec.dataset() == "synthetic") {
    int64_t n = limit > 0 ? limit : (split == Split::kTrain ? 60000 : 10000);
    return MakeSyntheticDataset(n, spec.seed() + (split == Split::kTrain ? 0 : 1));
  }
  if (spec.dataset() == "npy") {
    const std::string loss = spec.loss().empty() ? "cross-entropy" : spec.loss();
    CYCLR_ASSIGN_OR_RETURN(NpyDatasetFiles files, CheckNpyDataset(spec.data_dir(), loss));
    NpyLoadOptions o;
    o.loss = loss;
    o.limit = limit;
    if (!spec.normalize().empty()) {
      o.normalize = true;
      CYCLR_RETURN_IF_ERROR(ParseNormalize(spec.normalize(), "normalize", &o.mean, &o.std));
    }
    return LoadNpyDataset(files, split, o);
  }
  std::string dir = spec.data_dir().empty() ? "/usr/share/datasets/fashion-mnist" : spec.data_dir();
  return LoadFashionMnist(dir, split, limit);
}

void Trainer::LogStep(int64_t step, const TimelinePoint& point, double loss) {
  if (!lr_log_.is_open()) return;
  char line[160];
  std::snprintf(line, sizeof line, "%lld,%.17g,%.17g,%lld,%.9g\n", static_cast<long long>(step),
                point.lr, point.momentum ? *point.momentum : options_.spec.momentum(),
                static_cast<long long>(point.version), loss);
  lr_log_ << line;
}

void Trainer::OpenLrLog() {
  // A resumed run continues the log of the run it resumes: rows of the steps it will redo (after
  // the checkpoint it resumed from) are dropped, so the log has one row per step.
  const std::string path = options_.log_dir + "/lr-rank-" + std::to_string(options_.rank) + ".csv";
  std::vector<std::string> kept;
  std::ifstream old(path);
  for (std::string line; step_ > 0 && std::getline(old, line);) {
    if (!kept.empty() && std::stoll(line.substr(0, line.find(','))) >= step_) break;
    kept.push_back(line);
  }
  lr_log_.open(path, std::ios::trunc);
  if (kept.empty()) kept.push_back("step,lr,momentum,version,loss");
  for (const std::string& line : kept) lr_log_ << line << "\n";
}

Status Trainer::WriteParameters() const {
  if (options_.log_dir.empty()) return Status::Ok();
  std::string path = options_.log_dir + "/params-rank-" + std::to_string(options_.rank) + ".bin";
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  for (const torch::Tensor& p : model_.module->parameters()) {
    torch::Tensor c = p.detach().contiguous();
    out.write(static_cast<const char*>(c.data_ptr()), c.numel() * sizeof(float));
  }
  if (!out) return Status::Internal("cannot write " + path);
  if (model_.module->buffers().empty()) return Status::Ok();
  // Buffers (batch-norm statistics, any dtype) as raw bytes, to check that ranks agree.
  const std::string buffers = options_.log_dir + "/buffers-rank-" + std::to_string(options_.rank) +
                              ".bin";
  std::ofstream bout(buffers, std::ios::binary | std::ios::trunc);
  for (const torch::Tensor& b : model_.module->buffers()) {
    torch::Tensor c = b.detach().contiguous();
    bout.write(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size());
  }
  if (!bout) return Status::Internal("cannot write " + buffers);
  return Status::Ok();
}

Status Trainer::AgreeOnModelFile() {
  if (options_.spec.model_file().empty() || options_.world_size == 1) return Status::Ok();
  const std::string& digest = model_.sha256;  // hashed once, by BuildTrainableModel
  // The first 16 bytes of the digest as two int64: equal MIN and MAX over ranks = the same file.
  int64_t words[4] = {0, 0, 0, 0};
  for (int i = 0; i < 2; ++i) {
    words[i] = static_cast<int64_t>(std::stoull(digest.substr(16 * i, 16), nullptr, 16));
    words[2 + i] = -words[i];  // MIN of the negation = -MAX (one collective)
  }
  CYCLR_RETURN_IF_ERROR(comm_->AllReduce(words, 4, DataType::kInt64, ReduceOp::kMin)
                            ->Wait(options_.collective_timeout));
  for (int i = 0; i < 2; ++i) {
    if (words[i] != -words[2 + i]) {
      return Status::FailedPrecondition(
          "the ranks have different model files: rank " + std::to_string(options_.rank) + "'s " +
          options_.spec.model_file() + " has SHA-256 " + digest + ", another rank's differs");
    }
  }
  return Status::Ok();
}

Status Trainer::ExportModel(const std::string& dir) const {
  if (!model_.script) return Status::Ok();
  CYCLR_RETURN_IF_ERROR(MakePrivateDirs(dir));
  return model_.script->Export(dir + "/model.pt");
}

}  // namespace cyclr
