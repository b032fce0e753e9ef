#include "backend/cpu/bf16_pairs.h"

#include "backend/cpu/simd.h"

namespace llmbatch {

// Round to nearest even: add 0x7fff plus the lowest kept bit, keep the high
// half; a NaN keeps its sign and payload's top bits, made quiet so that
// truncation cannot turn it into an infinity.
__attribute__((target("avx512f"))) void row_to_bf16_pairs(const float* row, int64_t n, uint32_t* pairs, float scale) {
  const __m512i one = _mm512_set1_epi32(1), half = _mm512_set1_epi32(0x7fff);
  const __m512i magnitude = _mm512_set1_epi32(0x7fffffff), inf = _mm512_set1_epi32(0x7f800000);
  const __m512i quiet = _mm512_set1_epi32(0x00400000);
  for (int64_t k = 0; k < n; k += 16) {
    const auto live = static_cast<__mmask16>(n - k >= 16 ? 0xffff : (1u << (n - k)) - 1);
    const __m512i bits =
        _mm512_castps_si512(_mm512_maskz_mul_ps(live, _mm512_maskz_loadu_ps(live, row + k), _mm512_set1_ps(scale)));
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(bits, 16), one);
    __m512i rounded = _mm512_add_epi32(bits, _mm512_add_epi32(lsb, half));
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(bits, magnitude), inf);
    rounded = _mm512_mask_or_epi32(rounded, nan, bits, quiet);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(pairs + k / 2),
                        _mm512_cvtepi32_epi16(_mm512_srli_epi32(rounded, 16)));
  }
}

}  // namespace llmbatch
