// The RMSNorm kernel's math, run on the CPU, against a naive float64
// RMSNorm written from the definition.
#include "rmsnorm.cuh"

#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace llmbatch::kernels {
namespace {

std::vector<double> rmsnorm_f64(const std::vector<float>& x, const std::vector<float>& w, double eps) {
  double sum_sq = 0;
  for (float v : x) sum_sq += double(v) * v;
  const double inv = 1.0 / std::sqrt(sum_sq / x.size() + eps);
  std::vector<double> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * inv * w[i];
  return y;
}

std::vector<float> random_vector(int n, float scale, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (auto& e : v) e = dist(rng);
  return v;
}

// Odd sizes and sizes around the 256-lane stride, small and large scales.
TEST(RmsNormMathTest, MatchesFloat64Reference) {
  for (int hidden : {1, 7, 64, 255, 256, 257, 576, 2048, 4099}) {
    for (float scale : {1e-3f, 1.0f, 300.0f}) {
      const auto x = random_vector(hidden, scale, hidden);
      const auto w = random_vector(hidden, 1.0f, hidden + 1);
      std::vector<float> y(hidden);
      rmsnorm_row_host(x.data(), w.data(), y.data(), hidden, 1e-5f);
      const auto ref = rmsnorm_f64(x, w, 1e-5);
      for (int i = 0; i < hidden; ++i) {
        // f32 sum of squares + rsqrt: a few ulps of relative error.
        ASSERT_NEAR(y[i], ref[i], 1e-5 * std::abs(ref[i]) + 1e-6) << "hidden " << hidden << " i " << i;
      }
    }
  }
}

TEST(RmsNormMathTest, EpsilonDominatesAZeroRow) {
  const std::vector<float> x(100, 0.0f), w(100, 2.0f);
  std::vector<float> y(100, 1.0f);
  rmsnorm_row_host(x.data(), w.data(), y.data(), 100, 1e-6f);
  for (float v : y) EXPECT_EQ(v, 0.0f);
}

TEST(RmsNormMathTest, InPlaceEqualsOutOfPlace) {
  auto x = random_vector(300, 2.0f, 3);
  const auto w = random_vector(300, 1.0f, 4);
  std::vector<float> y(300);
  rmsnorm_row_host(x.data(), w.data(), y.data(), 300, 1e-5f);
  rmsnorm_row_host(x.data(), w.data(), x.data(), 300, 1e-5f);
  EXPECT_EQ(x, y);
}

TEST(RmsNormMathTest, HelpersFollowTheDefinition) {
  const float x[3] = {1.0f, 2.0f, 3.0f};
  EXPECT_EQ(rmsnorm_lane_sum(x, 3, 0), 1.0f);
  EXPECT_EQ(rmsnorm_lane_sum(x, 3, 2), 9.0f);
  EXPECT_EQ(rmsnorm_lane_sum(x, 3, 3), 0.0f);
  EXPECT_FLOAT_EQ(rmsnorm_inv_rms(14.0f, 3, 0.0f), 1.0f / std::sqrt(14.0f / 3.0f));
  EXPECT_EQ(rmsnorm_scale(2.0f, 0.5f, 3.0f), 3.0f);
}

}  // namespace
}  // namespace llmbatch::kernels
