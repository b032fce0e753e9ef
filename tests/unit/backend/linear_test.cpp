// Linear (oneDNN GEMM) against a naive float64 product, and the bitwise
// batch invariance the engine's reproducibility rests on.
#include "backend/cpu/linear.h"

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace llmbatch {
namespace {

std::vector<float> random_floats(size_t n, float stddev, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, stddev);
  std::vector<float> v(n);
  for (auto& e : v) e = dist(rng);
  return v;
}

std::vector<uint16_t> to_bf16(const std::vector<float>& v) {
  std::vector<uint16_t> out(v.size());
  dtype_from_f32(DType::BF16, v.data(), out.data(), v.size());
  return out;
}

float round_bf16(float v) { return bf16_to_f32(f32_to_bf16(v)); }

// y[r][o] = sum_i x[r][i] * w[o][i] in double, from the values the GEMM sees.
std::vector<double> naive(const std::vector<float>& x, const std::vector<float>& w, int64_t rows, int64_t in,
                          int64_t out, bool bf16) {
  std::vector<double> y(rows * out);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t o = 0; o < out; ++o) {
      double acc = 0;
      for (int64_t i = 0; i < in; ++i) {
        const float a = bf16 ? round_bf16(x[r * in + i]) : x[r * in + i];
        const float b = bf16 ? round_bf16(w[o * in + i]) : w[o * in + i];
        acc += double(a) * b;
      }
      y[r * out + o] = acc;
    }
  }
  return y;
}

struct Case {
  DType weight, compute;
};

class LinearAccuracyTest : public ::testing::TestWithParam<Case> {};

// bf16 cases run where the CPU has bf16 GEMMs (AVX-512 BF16 / AMX).
#define SKIP_WITHOUT_BF16(compute) \
  if ((compute) == DType::BF16 && !cpu_supports_bf16_gemm()) GTEST_SKIP() << "no bf16 GEMM on this CPU"

TEST_P(LinearAccuracyTest, MatchesNaiveProduct) {
  const auto [weight_dtype, compute] = GetParam();
  SKIP_WITHOUT_BF16(compute);
  for (auto [rows, in, out] : {std::array<int64_t, 3>{1, 64, 96}, {17, 97, 33}, {300, 256, 130}}) {
    const auto x = random_floats(rows * in, 1.0f, 1);
    auto w = random_floats(out * in, 0.1f, 2);
    std::vector<uint8_t> stored(w.size() * dtype_size(weight_dtype));
    dtype_from_f32(weight_dtype, w.data(), stored.data(), w.size());
    dtype_to_f32(weight_dtype, stored.data(), w.data(), w.size());  // what the layer really holds
    const Linear linear(stored.data(), weight_dtype, out, in, compute);
    std::vector<float> y(rows * out);
    linear.forward(x.data(), rows, y.data());
    const auto ref = naive(x, w, rows, in, out, compute == DType::BF16);
    // f32 accumulation over `in` terms of size ~0.1: relative error ~1e-6.
    for (size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(y[i], ref[i], 1e-4 + 1e-5 * std::abs(ref[i])) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, LinearAccuracyTest,
                         ::testing::Values(Case{DType::F32, DType::F32}, Case{DType::BF16, DType::BF16},
                                           Case{DType::F32, DType::BF16}, Case{DType::F16, DType::F32}));

// A probe row's output bits must not depend on how many rows run with it or
// where it sits. Shapes: SmolLM-135M and Llama-3.2-1B fused qkv, gate+up,
// down and o projections.
TEST(LinearInvarianceTest, RowBitsIndependentOfBatch) {
  const std::vector<std::pair<int64_t, int64_t>> shapes = {{576, 960}, {576, 3072}, {1536, 576}, {576, 576},
                                                           {2048, 3072}, {8192, 2048}, {2048, 16384}};
  const std::vector<int64_t> batch_sizes = {1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65,
                                            127, 128, 129, 255, 256, 257, 300, 513};
  for (DType compute : {DType::BF16, DType::F32}) {
    if (compute == DType::BF16 && !cpu_supports_bf16_gemm()) continue;
    for (const auto& [in, out] : shapes) {
      // The f32 pass covers the SmolLM shapes only, to keep the test short.
      if (compute == DType::F32 && in * out > 576 * 3072) continue;
      const auto w = to_bf16(random_floats(in * out, 0.05f, 3));
      const Linear linear(w.data(), DType::BF16, out, in, compute);
      const int64_t max_rows = batch_sizes.back();
      const auto x = random_floats(max_rows * in, 1.0f, 4);
      std::vector<float> alone(out), y(max_rows * out);
      linear.forward(x.data(), 1, alone.data());  // row 0 by itself
      for (int64_t m : batch_sizes) {
        // Row 0 first in a batch of m, and as the last row of a batch of m.
        linear.forward(x.data(), m, y.data());
        ASSERT_EQ(0, std::memcmp(alone.data(), y.data(), out * sizeof(float)))
            << "first row, M=" << m << " shape " << in << "x" << out << " " << dtype_name(compute);
        std::vector<float> shifted(x.begin() + in, x.begin() + m * in);
        shifted.insert(shifted.end(), x.begin(), x.begin() + in);
        linear.forward(shifted.data(), m, y.data());
        ASSERT_EQ(0, std::memcmp(alone.data(), y.data() + (m - 1) * out, out * sizeof(float)))
            << "last row, M=" << m << " shape " << in << "x" << out << " " << dtype_name(compute);
      }
    }
  }
}

TEST(LinearTest, ComputeDtypeFollowsWeightsRequestAndCpu) {
  EXPECT_EQ(linear_compute_dtype(DType::F32, DType::F32), DType::F32);
  EXPECT_EQ(linear_compute_dtype(DType::F16, DType::F16), DType::F32);
  const DType bf16_if_supported = cpu_supports_bf16_gemm() ? DType::BF16 : DType::F32;
  EXPECT_EQ(linear_compute_dtype(DType::BF16, DType::BF16), bf16_if_supported);
  EXPECT_EQ(linear_compute_dtype(DType::F32, DType::BF16), bf16_if_supported);
  EXPECT_EQ(linear_compute_dtype(DType::BF16, DType::F32), DType::F32);
}

TEST(LinearTest, ReportsOneDnnImplementationAndShape) {
  const auto w = to_bf16(random_floats(64 * 32, 0.1f, 5));
  const DType compute = linear_compute_dtype(DType::BF16, DType::BF16);
  const Linear linear(w.data(), DType::BF16, 32, 64, compute);
  EXPECT_EQ(linear.in_features(), 64);
  EXPECT_EQ(linear.out_features(), 32);
  EXPECT_EQ(linear.compute_dtype(), compute);
  // Not the slow reference kernel.
  EXPECT_EQ(linear.implementation().find("ref"), std::string::npos) << linear.implementation();
}

TEST(LinearTest, ZeroRowsIsANoOp) {
  const auto w = to_bf16(random_floats(8 * 8, 0.1f, 6));
  const Linear linear(w.data(), DType::BF16, 8, 8, DType::F32);
  linear.forward(nullptr, 0, nullptr);
}

TEST(LinearTest, ThreadCountIsSettable) {
  cpu_set_threads(1);
  EXPECT_EQ(cpu_threads(), 1);
  cpu_set_threads(0);
  EXPECT_GE(cpu_threads(), 1);
}

}  // namespace
}  // namespace llmbatch
