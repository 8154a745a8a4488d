// PathPolicy: the folders a job spec may name. The workers of a local job run as the
// coordinator's user, so a path in a spec is that user's reach: without a policy an operator could
// make them read or overwrite any file the coordinator can. Write paths (checkpoint_dir,
// output_dir) must lie under a write prefix; read paths (data_dir, model_file, resume_from,
// init_from) under
// a write prefix or a read-only one. Defaults: --work-dir for both, /usr/share/datasets for reads;
// the coordinator's --allow-path-prefix adds write prefixes ("/" allows everything).
//
// A path must be absolute; it is resolved lexically and through the symlinks of its existing part
// (std::filesystem::weakly_canonical), so "../" and a planted link cannot leave a prefix. The error
// names the field and the allowed folders, and is the same whether the path exists or not.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "cyclr/v1/job.pb.h"

namespace cyclr {

inline constexpr char kDatasetsPrefix[] = "/usr/share/datasets";

class PathPolicy {
 public:
  // `write` and `read_only` prefixes as given (canonicalized here).
  PathPolicy(const std::vector<std::string>& write, const std::vector<std::string>& read_only);

  // PERMISSION_DENIED naming the first field outside its prefixes; INVALID_ARGUMENT for a path
  // that is not absolute.
  Status Check(const v1::JobSpec& spec) const;

  const std::vector<std::string>& write_prefixes() const { return write_; }

 private:
  Status CheckOne(const std::string& field, const std::string& path, bool write) const;

  std::vector<std::string> write_;
  std::vector<std::string> read_;  // write_ + read-only ones
};

}  // namespace cyclr
