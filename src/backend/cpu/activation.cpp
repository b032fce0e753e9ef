#include "backend/cpu/activation.h"

#include <algorithm>
#include <cmath>

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/linear.h"
#include "backend/cpu/simd_exp.h"

namespace llmbatch {
namespace {

__attribute__((target("avx2,fma"))) inline __m256 silu_mul8(__m256 g, __m256 u) {
  const __m256 minus_log2e = _mm256_set1_ps(-1.4426950408889634f);
  const __m256 e = exp2_avx2(_mm256_mul_ps(g, minus_log2e));
  return _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e)), u);
}

__attribute__((target("avx2,fma"))) void silu_mul_row_avx2(const float* g, const float* u, int64_t n, float* out) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, silu_mul8(_mm256_loadu_ps(g + i), _mm256_loadu_ps(u + i)));
  if (i == n) return;
  // The tail through the same vector code, padded with zeros.
  alignas(32) float gt[8] = {}, ut[8] = {}, ot[8];
  std::copy(g + i, g + n, gt);
  std::copy(u + i, u + n, ut);
  _mm256_store_ps(ot, silu_mul8(_mm256_load_ps(gt), _mm256_load_ps(ut)));
  std::copy_n(ot, n - i, out + i);
}

void silu_mul_row_portable(const float* g, const float* u, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

}  // namespace

void silu_mul_rows(const float* gate_up, int64_t tokens, int64_t ffn, float* out) {
  const bool avx2 = cpu_supports_avx2_fma();
#pragma omp parallel for schedule(static) if (tokens >= kMinRowsForThreads)
  for (int64_t t = 0; t < tokens; ++t) {
    const float* g = gate_up + t * 2 * ffn;
    avx2 ? silu_mul_row_avx2(g, g + ffn, ffn, out + t * ffn) : silu_mul_row_portable(g, g + ffn, ffn, out + t * ffn);
  }
}

}  // namespace llmbatch
