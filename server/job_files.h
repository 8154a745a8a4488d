// The launch-time checks of a job's own files: the TorchScript model file and the npy dataset.
//
// Run by JobManager::Launch after NormalizeJobSpec (not when jobs are reloaded from the state
// store: files may legitimately change after launch, and the workers check them again). A job
// whose workers this coordinator starts (launcher local) runs them on this host, so its files
// must be here: a missing or malformed file is refused before any process starts. A job launched
// by an external engine may see other files, so only what is readable here is checked.
//
// The model file's SHA-256 is recorded in spec.model_sha256; every worker refuses to train a
// file with another digest, so all ranks train the same model.
#pragma once

#include "core/status.h"
#include "cyclr/v1/job.pb.h"

namespace cyclr {

// May set spec->model_sha256. NOT_FOUND / INVALID_ARGUMENT name the file and the rule (see
// core/npy_dataset_files.h and core/npy_header.h); a model_sha256 given by the client that differs
// from the file's is INVALID_ARGUMENT.
Status CheckJobFiles(v1::JobSpec* spec);

}  // namespace cyclr
