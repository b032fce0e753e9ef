#include "backend/cpu/rope.h"

#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "backend/cpu/vec.h"
#include "core/error.h"

namespace llmbatch {
namespace {

ModelConfig config(int64_t head_dim, double theta) {
  ModelConfig c;
  c.head_dim = head_dim;
  c.rope_theta = theta;
  return c;
}

TEST(RopeTest, DefaultFrequenciesFollowTheFormula) {
  const auto f = rope_inv_freq(config(64, 10000.0));
  ASSERT_EQ(f.size(), 32u);
  for (int i = 0; i < 32; ++i) EXPECT_DOUBLE_EQ(f[i], std::pow(10000.0, -2.0 * i / 64));
}

TEST(RopeTest, LinearScalingDividesEveryFrequency) {
  auto c = config(16, 10000.0);
  const auto base = rope_inv_freq(c);
  c.rope_scaling = {RopeScalingType::Linear, 4.0};
  const auto scaled = rope_inv_freq(c);
  for (size_t i = 0; i < base.size(); ++i) EXPECT_DOUBLE_EQ(scaled[i], base[i] / 4.0);
}

// Llama-3.1: wavelengths under original/high_freq_factor keep their
// frequency, those over original/low_freq_factor are slowed by `factor`,
// and the band between is interpolated, monotonically.
TEST(RopeTest, Llama3ScalingKeepsHighSlowsLowBlendsMiddle) {
  auto c = config(128, 500000.0);
  const auto base = rope_inv_freq(c);
  c.rope_scaling = {RopeScalingType::Llama3, 8.0, 1.0, 4.0, 8192};
  const auto scaled = rope_inv_freq(c);
  int high = 0, low = 0, mid = 0;
  for (size_t i = 0; i < base.size(); ++i) {
    const double wavelen = 2 * std::numbers::pi / base[i];
    if (wavelen < 8192.0 / 4.0) {
      EXPECT_DOUBLE_EQ(scaled[i], base[i]);
      ++high;
    } else if (wavelen > 8192.0) {
      EXPECT_DOUBLE_EQ(scaled[i], base[i] / 8.0);
      ++low;
    } else {
      EXPECT_LT(scaled[i], base[i]);
      EXPECT_GT(scaled[i], base[i] / 8.0);
      ++mid;
    }
  }
  EXPECT_GT(high, 0);
  EXPECT_GT(low, 0);
  EXPECT_GT(mid, 0);
}

std::vector<float> random_head(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist;
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

TEST(RopeTest, PositionZeroIsIdentityAndRotationKeepsPairNorms) {
  const RopeTable table(config(16, 10000.0), 64);
  EXPECT_EQ(table.half_dim(), 8);
  EXPECT_EQ(table.max_positions(), 64);
  auto x = random_head(32, 1);  // two heads
  auto y = x;
  table.apply(y.data(), 2, 0);
  EXPECT_EQ(x, y);
  table.apply(y.data(), 2, 37);
  for (int h = 0; h < 2; ++h) {
    for (int i = 0; i < 8; ++i) {  // rotate_half pairs i with i + 8
      const float* a = &x[h * 16];
      const float* b = &y[h * 16];
      EXPECT_NEAR(a[i] * a[i] + a[i + 8] * a[i + 8], b[i] * b[i] + b[i + 8] * b[i + 8], 1e-4);
    }
  }
}

// q·k after RoPE depends only on the distance between positions.
TEST(RopeTest, ScoresDependOnRelativePositionOnly) {
  const RopeTable table(config(32, 10000.0), 512);
  const auto q = random_head(32, 2), k = random_head(32, 3);
  auto score = [&](int64_t pq, int64_t pk) {
    auto a = q, b = k;
    table.apply(a.data(), 1, pq);
    table.apply(b.data(), 1, pk);
    return vec_dot(a.data(), b.data(), 32);
  };
  EXPECT_NEAR(score(10, 3), score(107, 100), 1e-3);
  EXPECT_NEAR(score(300, 0), score(400, 100), 1e-3);
}

TEST(RopeTest, PositionOutsideTheTableIsABug) {
  const RopeTable table(config(8, 10000.0), 4);
  std::vector<float> x(8);
  EXPECT_THROW(table.apply(x.data(), 1, 4), InternalError);
}

}  // namespace
}  // namespace llmbatch
