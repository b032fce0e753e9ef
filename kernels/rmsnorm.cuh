// RMSNorm: y = x / sqrt(mean(x^2) + eps) * weight, per row of `hidden`.
//
// The sum of squares is reduced in one fixed order: lane t of kRmsNormLanes
// accumulates elements t, t + L, t + 2L, ... with fmaf, then the lanes are
// combined by a halving tree. The CUDA kernel and the host function below
// follow the same order, so they agree bit for bit, and a row's result never
// depends on how many rows run together (batch invariance, DESIGN.md).
#pragma once

#include <cmath>
#include <cstdint>

#include "common.cuh"

namespace llmbatch::kernels {

constexpr int kRmsNormLanes = 256;  // = CUDA threads per block

// Partial sum of squares of one lane: [hidden] row, lane in [0, kRmsNormLanes).
LLMBATCH_HD inline float rmsnorm_lane_sum(const float* x, int hidden, int lane) {
  float acc = 0.0f;
  for (int i = lane; i < hidden; i += kRmsNormLanes) acc = fmaf(x[i], x[i], acc);
  return acc;
}

// 1 / sqrt(sum_sq / hidden + eps), the scale every element of a row gets.
LLMBATCH_HD inline float rmsnorm_inv_rms(float sum_sq, int hidden, float eps) {
  return 1.0f / sqrtf(sum_sq / static_cast<float>(hidden) + eps);
}

// Output element: normalized value times the learned weight, in the order
// Hugging Face Llama uses (normalize in f32, then scale).
LLMBATCH_HD inline float rmsnorm_scale(float x, float inv_rms, float weight) {
  return (x * inv_rms) * weight;
}

// The whole row on the host, in the kernel's reduction order.
// x, y: [hidden]; weight: [hidden]. y may alias x.
inline void rmsnorm_row_host(const float* x, const float* weight, float* y, int hidden, float eps) {
  float partial[kRmsNormLanes];
  for (int t = 0; t < kRmsNormLanes; ++t) partial[t] = rmsnorm_lane_sum(x, hidden, t);
  for (int offset = kRmsNormLanes / 2; offset > 0; offset /= 2) {
    for (int t = 0; t < offset; ++t) partial[t] += partial[t + offset];
  }
  const float inv_rms = rmsnorm_inv_rms(partial[0], hidden, eps);
  for (int i = 0; i < hidden; ++i) y[i] = rmsnorm_scale(x[i], inv_rms, weight[i]);
}

}  // namespace llmbatch::kernels
