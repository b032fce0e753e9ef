// The softmax numerators of a row of logits, in double: the sampler needs
// one exp per vocabulary entry (152k) per row when it takes the full
// softmax, and std::exp (~10 ns a call, never vectorized) would dominate.
// exp_nonpositive is written so that a loop over it vectorizes (no calls,
// no branches); accurate to 1 ulp (checked against std::exp in the tests);
// results below 2^-1021 (x < -708) are flushed to 0, which no sampling
// probability can tell apart.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

namespace llmbatch {

// x <= 0, or -inf (-> 0); NaN stays NaN.
inline double exp_nonpositive(double x) {
  constexpr double kLog2e = 1.4426950408889634;
  constexpr double kLn2Hi = 0x1.62e42fefa3800p-1;  // ln 2 split so k * kLn2Hi is exact
  constexpr double kLn2Lo = 0x1.ef35793c76730p-45;
  constexpr double kRound = 0x1.8p52;  // adding it rounds to an integer held in the low mantissa bits
  constexpr double kMin = -708.0;
  const double clamped = x < kMin ? kMin : x;  // NaN passes through
  const double shifted = clamped * kLog2e + kRound;
  const double k = shifted - kRound;  // round(x / ln 2), in [-1022, 0]
  const double r = (clamped - k * kLn2Hi) - k * kLn2Lo;  // |r| <= ln(2) / 2
  // Taylor series of e^r to r^13: the remainder is below 1e-17 for |r| <= ln(2) / 2.
  double p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // 2^k: the low bits of `shifted` hold k; move k + 1023 into the exponent field.
  const double scale = std::bit_cast<double>((std::bit_cast<uint64_t>(shifted) + 1023) << 52);
  return x < kMin ? 0.0 : p * scale;
}

// The largest of logits[0, n), skipping NaNs (they make the softmax sum NaN
// later, where the sampler reports them); -inf when there is none.
float max_row(const float* logits /*[n]*/, size_t n);

// out[i] = exp_nonpositive((logits[i] - max) * scale), with max >= every
// logit. Compiled for AVX2 and for baseline x86-64 with the same IEEE
// operations in the same order (no FMA), so every CPU gets the same bits.
void exp_row(const float* logits /*[n]*/, size_t n, float max, double scale, double* out /*[n]*/);

// sum over i of exp_nonpositive(logits[i] - max), with max >= every logit:
// a softmax normalizer without storing the numerators (same bits on every
// CPU, as exp_row).
double sum_exp_row(const float* logits /*[n]*/, size_t n, float max);

}  // namespace llmbatch
