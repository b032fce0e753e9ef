// f32 rows as pairs of bf16 in 32-bit words, the operand of the bf16
// dot-product instruction (VDPBF16PS): the GEMM's activations and the bf16
// attention kernel's queries (its softmax weights, known to be in [0, 2^8],
// take VCVTNE2PS2BF16 instead).
#pragma once

#include <cstdint>

namespace llmbatch {

// row[0, n) as (n + 1) / 2 words (row[2i] in the low half, row[2i + 1] in
// the high), each value times `scale` (an f32 product, as a scalar loop's)
// rounded as f32_to_bf16 does (to nearest even, NaN kept NaN), 16 values
// at a time: `pairs` holds (n + 1) / 2 rounded up to 8 words, the padding
// (and an odd n's last high half) zero. Needs AVX-512F.
void row_to_bf16_pairs(const float* row, int64_t n, uint32_t* pairs, float scale = 1.0f);

}  // namespace llmbatch
