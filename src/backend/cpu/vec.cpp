#include "backend/cpu/vec.h"

#include <cstring>

namespace llmbatch {
namespace {

typedef float Lanes __attribute__((vector_size(32)));  // 8 floats

}  // namespace

// Each function is compiled twice, for AVX2 and for baseline x86-64, and the
// loader picks one per CPU. Both do the same IEEE operations in the same
// order (no FMA: -ffp-contract=off), so they return the same bits.
#define LLMBATCH_VEC_CLONES __attribute__((target_clones("avx2", "default")))

LLMBATCH_VEC_CLONES float vec_dot(const float* a, const float* b, int64_t n) {
  Lanes acc = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    Lanes va, vb;
    std::memcpy(&va, a + i, sizeof va);
    std::memcpy(&vb, b + i, sizeof vb);
    acc += va * vb;
  }
  float lanes[8];
  std::memcpy(lanes, &acc, sizeof lanes);
  for (int64_t j = 0; i < n; ++i, ++j) lanes[j] += a[i] * b[i];
  return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
}

LLMBATCH_VEC_CLONES void vec_axpy(float alpha, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

LLMBATCH_VEC_CLONES void vec_scale(float alpha, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] *= alpha;
}

LLMBATCH_VEC_CLONES void vec_add(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

}  // namespace llmbatch
