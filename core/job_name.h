// The job name rule, checked by every program that takes a job name (the CLI before it sends
// one, the worker before it registers with one): [a-z0-9][a-z0-9-]{0,62}.
#pragma once

#include <string>

#include "core/status.h"

namespace cyclr {

// INVALID_ARGUMENT naming `field` and echoing the name through limits::Echo, e.g.
//   name ("Bad_Name") must match [a-z0-9][a-z0-9-]{0,62}
Status CheckJobName(const std::string& name, const std::string& field);

}  // namespace cyclr
