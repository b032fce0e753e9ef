#include "backend/cpu/vec.h"

#include <cstring>

namespace llmbatch {
namespace {

typedef float Lanes __attribute__((vector_size(32)));  // 8 floats

// The dot product of vec_dot, inlined into the tile loops below.
inline float dot(const float* a, const float* b, int64_t n) {
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

}  // namespace

// Each function is compiled twice, for AVX2 and for baseline x86-64, and the
// loader picks one per CPU. Both do the same IEEE operations in the same
// order (no FMA: -ffp-contract=off), so they return the same bits.
#define LLMBATCH_VEC_CLONES __attribute__((target_clones("avx2", "default")))

LLMBATCH_VEC_CLONES float vec_dot(const float* a, const float* b, int64_t n) { return dot(a, b, n); }

LLMBATCH_VEC_CLONES void vec_tile_scores(const float* q, const float* keys, int64_t n, int64_t dim, float scale,
                                         float* scores) {
  for (int64_t j = 0; j < n; ++j) scores[j] = dot(q, keys + j * dim, dim) * scale;
}

LLMBATCH_VEC_CLONES void vec_tile_accumulate(const float* p, const float* values, int64_t n, int64_t dim,
                                             float* acc) {
  for (int64_t j = 0; j < n; ++j) {
    const float pj = p[j];
    const float* v = values + j * dim;
    for (int64_t i = 0; i < dim; ++i) acc[i] += pj * v[i];
  }
}

LLMBATCH_VEC_CLONES void vec_scale(float alpha, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] *= alpha;
}

LLMBATCH_VEC_CLONES void vec_add(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

}  // namespace llmbatch
