// The arithmetic of the shared-memory all-reduce, apart from its synchronisation.
#pragma once

#include <cstddef>

#include "worker/comm/communicator.h"

namespace cyclr {

// dst[i] = ((srcs[0][i] op srcs[1][i]) op srcs[2][i]) ... op srcs[n_srcs-1][i] for i < count:
// always in source order, so every rank that reduces the same inputs gets the same bits.
// min/max follow std::min/std::max. Works in cache-sized blocks so `dst` stays hot.
// REQUIRES: n_srcs >= 1; dst does not overlap any source; pointers aligned for `type`.
void ReduceInOrder(void* dst, const char* const* srcs, int n_srcs, size_t count, DataType type,
                   ReduceOp op);

}  // namespace cyclr
