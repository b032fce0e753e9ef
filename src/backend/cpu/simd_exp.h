// 2^x on 8 floats with AVX2 + FMA, for the CPU kernels' softmax and SiLU,
// and on 16 with AVX-512F by the same operations, so with the same bits per
// lane. Include only from code compiled for (or marked with) avx2,fma
// (avx512f for exp2_avx512 and exp2_bf16_avx512).
//
// exp2_avx2 and exp2_avx512 clamp x to [-127, 127]; results below 2^-126
// flush to 0 (so -inf gives 0, as a softmax needs). x = n + f with
// |f| ≤ 1/2 and 2^f by its degree-7 Taylor polynomial (truncation ≈ 5e-9
// relative, below f32 rounding), 2^n put into the exponent: within 2 ulp of
// exp2 throughout.
// The same inputs give the same bits everywhere, which is all that batch
// invariance asks of it. exp2_bf16_avx512, for weights rounded to bf16
// next, is its cheaper cousin: a degree-4 polynomial and VSCALEFPS, within
// 1e-4 (see there).
#pragma once

#include <span>

#include "backend/cpu/simd.h"

namespace llmbatch {

// The polynomial's coefficients after ln2^7 / 7!, highest degree first.
inline constexpr float kExp2Coefficients[] = {1.5403530393381606e-4f, 1.3333558146428443e-3f, 9.6181291076284772e-3f,
                                              5.5504108664821580e-2f, 2.4022650695910071e-1f, 6.9314718055994531e-1f,
                                              1.0f};
inline constexpr float kExp2Leading = 1.5252733804059840e-5f;  // ln2^7 / 7!

__attribute__((target("avx2,fma"))) inline __m256 exp2_avx2(__m256 x) {
  const __m256 xc = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-127.0f)), _mm256_set1_ps(127.0f));
  const __m256 n = _mm256_round_ps(xc, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 f = _mm256_sub_ps(xc, n);
  __m256 p = _mm256_set1_ps(kExp2Leading);
  for (const float c : kExp2Coefficients) p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(c));
  const __m256i scale = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  const __m256 tiny = _mm256_cmp_ps(x, _mm256_set1_ps(-126.0f), _CMP_LT_OQ);
  return _mm256_andnot_ps(tiny, _mm256_mul_ps(p, _mm256_castsi256_ps(scale)));
}

__attribute__((target("avx512f"))) inline __m512 exp2_avx512(__m512 x) {
  const __m512 xc = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-127.0f)), _mm512_set1_ps(127.0f));
  const __m512 n = _mm512_roundscale_ps(xc, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 f = _mm512_sub_ps(xc, n);
  __m512 p = _mm512_set1_ps(kExp2Leading);
  for (const float c : kExp2Coefficients) p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(c));
  const __m512i scale = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
  const __mmask16 normal = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-126.0f), _CMP_NLT_UQ);
  return _mm512_maskz_mul_ps(normal, p, _mm512_castsi512_ps(scale));
}

// 2^x on 16 floats to the precision of a bf16 result (relative error below
// 1e-4, a twentieth of bf16's half ulp), for weights rounded to bf16 next:
// the same reduction with a degree-4 polynomial, and 2^n applied by
// VSCALEFPS. Below -126 the result is 0, as exp2_avx512's; NaN stays NaN.
// The polynomial is the degree-7 one's tail: ln2^4 / 4! down to 1.
// Needs x <= 127 (a softmax's x is at most 2^3; above, +inf gives NaN),
// and so goes without exp2_avx512's clamps: where x < -126 (-inf included)
// the mask gives 0 whatever the lane computed, and above it they change
// nothing.

__attribute__((target("avx512f"))) inline __m512 exp2_bf16_avx512(__m512 x) {
  const __m512 n = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 f = _mm512_sub_ps(x, n);
  const std::span<const float> degree7(kExp2Coefficients);
  __m512 p = _mm512_set1_ps(degree7[2]);
  for (const float c : degree7.last(4)) p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(c));
  const __mmask16 normal = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-126.0f), _CMP_NLT_UQ);
  return _mm512_maskz_scalef_ps(normal, p, n);
}

}  // namespace llmbatch
