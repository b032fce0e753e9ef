// Random data and a naive float64 product shared by the GEMM tests.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "core/dtype.h"

namespace llmbatch::testing {

inline std::vector<float> random_floats(size_t n, float stddev, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, stddev);
  std::vector<float> v(n);
  for (auto& e : v) e = dist(rng);
  return v;
}

inline std::vector<uint16_t> to_bf16(const std::vector<float>& v) {
  std::vector<uint16_t> out(v.size());
  dtype_from_f32(DType::BF16, v.data(), out.data(), v.size());
  return out;
}

inline float round_bf16(float v) { return bf16_to_f32(f32_to_bf16(v)); }

// y[r][o] = sum_i x[r][i] * w[o][i] in double; `round_x` rounds x to bf16
// first (what a bf16 × bf16 GEMM sees).
inline std::vector<double> naive_product(const std::vector<float>& x, const std::vector<float>& w, int64_t rows,
                                         int64_t in, int64_t out, bool round_x) {
  std::vector<double> y(rows * out);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t o = 0; o < out; ++o) {
      double acc = 0;
      for (int64_t i = 0; i < in; ++i) {
        const float a = round_x ? round_bf16(x[r * in + i]) : x[r * in + i];
        acc += double(a) * w[o * in + i];
      }
      y[r * out + o] = acc;
    }
  }
  return y;
}

}  // namespace llmbatch::testing
