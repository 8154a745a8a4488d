// The edge between Gloo (which throws) and cyclr (which returns Status): every Gloo call in
// worker/comm goes through CallGloo().
#pragma once

#include <functional>

#include "core/status.h"

namespace cyclr {

// Runs `fn` and converts what it throws: gloo::IoException mentioning a timeout →
// DEADLINE_EXCEEDED, other gloo::IoException → UNAVAILABLE (a peer went away),
// gloo::EnforceNotMet and anything else → INTERNAL. The message keeps Gloo's text (file:line).
Status CallGloo(const std::function<void()>& fn);

}  // namespace cyclr
