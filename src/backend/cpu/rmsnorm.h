// RMSNorm on the CPU: the bits of kernels::rmsnorm_row_host (rmsnorm.cuh,
// which the CUDA kernel also follows), vectorized where the CPU has AVX2 and
// FMA: the same lane sums (one fused chain per lane of 256), the same
// halving tree and the same two roundings per output.
#pragma once

#include <cstdint>

namespace llmbatch {

// y = x / sqrt(mean(x^2) + eps) * weight over one row of `hidden`.
void rmsnorm_row(const float* x, const float* weight, float* y, int64_t hidden, float eps);

// rmsnorm_row for each of `rows` rows ([rows, hidden]), in parallel.
void rmsnorm_rows(const float* x, const float* weight, float* y, int64_t rows, int64_t hidden, float eps);

}  // namespace llmbatch
