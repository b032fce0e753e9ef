#include "backend/cpu/rmsnorm.h"

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/linear.h"
#include "backend/cpu/simd.h"
#include "rmsnorm.cuh"

namespace llmbatch {
namespace {

using kernels::kRmsNormLanes;

// Lanes i .. i + n of a vector (n < 8: the rest read as 0, which adds
// fma(0, 0, acc) = acc to a lane's chain: nothing).
__attribute__((target("avx2,fma"))) __m256 load_first(const float* p, int n) {
  if (n >= 8) return _mm256_loadu_ps(p);
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_maskload_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane));
}

__attribute__((target("avx2,fma"))) void rmsnorm_row_avx2(const float* x, const float* weight, float* y, int hidden,
                                                          float eps) {
  alignas(32) float partial[kRmsNormLanes] = {};
  // Lane t's chain: fma(x[t + 256 k], x[t + 256 k], acc) for k = 0, 1, ...
  for (int base = 0; base < hidden; base += kRmsNormLanes) {
    for (int v = 0; v < kRmsNormLanes && base + v < hidden; v += 8) {
      const __m256 xv = load_first(x + base + v, hidden - base - v);
      _mm256_store_ps(partial + v, _mm256_fmadd_ps(xv, xv, _mm256_load_ps(partial + v)));
    }
  }
  int offset = kRmsNormLanes / 2;
  for (; offset >= 8; offset /= 2) {
    for (int t = 0; t < offset; t += 8) {
      _mm256_store_ps(partial + t, _mm256_add_ps(_mm256_load_ps(partial + t), _mm256_load_ps(partial + t + offset)));
    }
  }
  for (; offset > 0; offset /= 2) {
    for (int t = 0; t < offset; ++t) partial[t] += partial[t + offset];
  }
  const __m256 inv_rms = _mm256_set1_ps(kernels::rmsnorm_inv_rms(partial[0], hidden, eps));
  int i = 0;
  for (; i + 8 <= hidden; i += 8) {
    const __m256 scaled = _mm256_mul_ps(_mm256_loadu_ps(x + i), inv_rms);
    _mm256_storeu_ps(y + i, _mm256_mul_ps(scaled, _mm256_loadu_ps(weight + i)));
  }
  const float inv = _mm256_cvtss_f32(inv_rms);
  for (; i < hidden; ++i) y[i] = kernels::rmsnorm_scale(x[i], inv, weight[i]);
}

}  // namespace

void rmsnorm_row(const float* x, const float* weight, float* y, int64_t hidden, float eps) {
  if (cpu_supports_avx2_fma()) return rmsnorm_row_avx2(x, weight, y, static_cast<int>(hidden), eps);
  kernels::rmsnorm_row_host(x, weight, y, static_cast<int>(hidden), eps);
}

void rmsnorm_rows(const float* x, const float* weight, float* y, int64_t rows, int64_t hidden, float eps) {
#pragma omp parallel for if (rows >= kMinRowsForThreads)
  for (int64_t r = 0; r < rows; ++r) rmsnorm_row(x + r * hidden, weight, y + r * hidden, hidden, eps);
}

}  // namespace llmbatch
