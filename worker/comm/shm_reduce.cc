#include "worker/comm/shm_reduce.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "core/status.h"

namespace cyclr {
namespace {

constexpr size_t kBlockBytes = 8192;  // dst block kept in L1 while every source is folded in

struct Sum {
  template <typename T>
  static T Apply(T a, T b) {
    return a + b;
  }
};
struct Min {
  template <typename T>
  static T Apply(T a, T b) {
    return b < a ? b : a;  // std::min(a, b)
  }
};
struct Max {
  template <typename T>
  static T Apply(T a, T b) {
    return a < b ? b : a;  // std::max(a, b)
  }
};

template <typename T, typename Op>
void Fold2(T* __restrict dst, const T* __restrict a, const T* __restrict b, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = Op::Apply(a[i], b[i]);
}

template <typename T, typename Op>
void FoldInto(T* __restrict dst, const T* __restrict b, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = Op::Apply(dst[i], b[i]);
}

template <typename T, typename Op>
void Reduce(T* dst, const char* const* srcs, int n_srcs, size_t count) {
  const size_t block = kBlockBytes / sizeof(T);
  for (size_t lo = 0; lo < count; lo += block) {
    const size_t n = std::min(block, count - lo);
    const T* s0 = reinterpret_cast<const T*>(srcs[0]) + lo;
    if (n_srcs == 1) {
      std::memcpy(dst + lo, s0, n * sizeof(T));
      continue;
    }
    Fold2<T, Op>(dst + lo, s0, reinterpret_cast<const T*>(srcs[1]) + lo, n);
    for (int k = 2; k < n_srcs; ++k) {
      FoldInto<T, Op>(dst + lo, reinterpret_cast<const T*>(srcs[k]) + lo, n);
    }
  }
}

template <typename T>
void ReduceTyped(void* dst, const char* const* srcs, int n_srcs, size_t count, ReduceOp op) {
  T* d = static_cast<T*>(dst);
  switch (op) {
    case ReduceOp::kSum:
      return Reduce<T, Sum>(d, srcs, n_srcs, count);
    case ReduceOp::kMin:
      return Reduce<T, Min>(d, srcs, n_srcs, count);
    case ReduceOp::kMax:
      return Reduce<T, Max>(d, srcs, n_srcs, count);
  }
}

}  // namespace

void ReduceInOrder(void* dst, const char* const* srcs, int n_srcs, size_t count, DataType type,
                   ReduceOp op) {
  CYCLR_CHECK(n_srcs >= 1);
  if (type == DataType::kFloat32) {
    ReduceTyped<float>(dst, srcs, n_srcs, count, op);
  } else {
    ReduceTyped<int64_t>(dst, srcs, n_srcs, count, op);
  }
}

}  // namespace cyclr
