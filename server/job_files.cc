#include "server/job_files.h"

#include <fstream>

#include "core/file_sha256.h"
#include "core/npy_dataset_files.h"

namespace cyclr {
namespace {

bool Readable(const std::string& path) { return static_cast<bool>(std::ifstream(path)); }

Status CheckModelFile(v1::JobSpec* spec, bool local) {
  if (spec->model_file().empty()) return Status::Ok();
  if (!local && !Readable(spec->model_file())) return Status::Ok();
  StatusOr<std::string> digest = FileSha256(spec->model_file());
  if (!digest.ok()) return digest.status().WithContext("model_file");
  if (!spec->model_sha256().empty() && spec->model_sha256() != *digest) {
    return Status::InvalidArgument("model_sha256 (" + spec->model_sha256() +
                                   ") does not match model_file " + spec->model_file() + " (" +
                                   *digest + ")");
  }
  spec->set_model_sha256(*digest);
  return Status::Ok();
}

}  // namespace

Status CheckJobFiles(v1::JobSpec* spec) {
  const bool local = spec->launcher() == "local";
  CYCLR_RETURN_IF_ERROR(CheckModelFile(spec, local));
  if (spec->dataset() == "npy" &&
      (local || Readable(spec->data_dir() + "/train_x.npy"))) {
    CYCLR_RETURN_IF_ERROR(CheckNpyDataset(spec->data_dir(), spec->loss()).status());
  }
  return Status::Ok();
}

}  // namespace cyclr
