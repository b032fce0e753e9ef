// Small float kernels with a fixed reduction order. A dot product keeps 8
// partial sums (element i goes to lane i % 8) and adds them as a fixed
// tree, whatever the compiler vectorizes, so the result is a function of
// the inputs alone: the same in every batch. No FMA contraction: the build
// is ISO C++ (-ffp-contract=off), so a*b+c rounds twice everywhere.
#pragma once

#include <cstdint>

namespace llmbatch {

float vec_dot(const float* a, const float* b, int64_t n);
// y[i] *= alpha
void vec_scale(float alpha, float* y, int64_t n);
// y[i] += x[i]
void vec_add(const float* x, float* y, int64_t n);

// Attention over one key tile, one call per tile rather than per key:
// scores[j] = vec_dot(q, keys + j * dim, dim) * scale for j < n.
void vec_tile_scores(const float* q, const float* keys, int64_t n, int64_t dim, float scale, float* scores);
// acc[i] += p[j] * values[j * dim + i], for j = 0 .. n-1 in order.
void vec_tile_accumulate(const float* p, const float* values, int64_t n, int64_t dim, float* acc);

}  // namespace llmbatch
