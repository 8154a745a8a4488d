#include "core/job_name.h"

#include "core/limits.h"

namespace cyclr {

Status CheckJobName(const std::string& name, const std::string& field) {
  bool ok = !name.empty() && name.size() <= limits::kMaxNameBytes;
  for (size_t i = 0; ok && i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    ok = alnum || (i > 0 && c == '-');
  }
  if (ok) return Status::Ok();
  return Status::InvalidArgument(field + " (" + limits::Echo(name) +
                                 ") must match [a-z0-9][a-z0-9-]{0,62}");
}

}  // namespace cyclr
