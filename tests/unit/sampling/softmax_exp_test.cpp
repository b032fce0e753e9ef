#include "sampling/softmax_exp.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace llmbatch {
namespace {

TEST(SoftmaxExpTest, AgreesWithStdExpToAnUlp) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> wide(-708.0, 0.0), narrow(-1.0, 0.0);
  double worst = 0;
  for (int i = 0; i < 200000; ++i) {
    const double x = i % 2 ? wide(rng) : narrow(rng) * std::ldexp(1.0, -(i % 50));
    const double want = std::exp(x);
    worst = std::max(worst, std::abs(exp_nonpositive(x) - want) / want);
  }
  EXPECT_LE(worst, 2.3e-16);  // 1 ulp of a double in [1, 2) is 2.2e-16
}

TEST(SoftmaxExpTest, EdgeValues) {
  EXPECT_EQ(exp_nonpositive(0.0), 1.0);
  EXPECT_EQ(exp_nonpositive(-0.0), 1.0);
  EXPECT_EQ(exp_nonpositive(-std::numeric_limits<double>::infinity()), 0.0);
  EXPECT_EQ(exp_nonpositive(-708.5), 0.0);  // flushed
  EXPECT_NEAR(exp_nonpositive(-708.0) / std::exp(-708.0), 1.0, 1e-15);
  EXPECT_TRUE(std::isnan(exp_nonpositive(std::nan(""))));
}

TEST(SoftmaxExpTest, RowMatchesTheScalarFunctionBitForBit) {
  for (size_t n : {size_t{1}, size_t{7}, size_t{1001}}) {
    std::vector<float> logits(n);
    std::mt19937 rng(static_cast<uint32_t>(n));
    std::normal_distribution<float> normal(0.0f, 4.0f);
    for (float& v : logits) v = normal(rng);
    logits[n / 2] = -std::numeric_limits<float>::infinity();
    const float max = 20.0f;
    const double scale = 1.0 / 0.7;
    std::vector<double> out(n);
    exp_row(logits.data(), n, max, scale, out.data());
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(out[i], exp_nonpositive((double{logits[i]} - max) * scale)) << i;
    EXPECT_EQ(out[n / 2], 0.0);
  }
}

TEST(SoftmaxExpTest, SumExpRowIsTheSoftmaxNormalizer) {
  for (size_t n : {size_t{1}, size_t{6}, size_t{4097}}) {
    std::vector<float> logits(n);
    std::mt19937 rng(static_cast<uint32_t>(n) + 1);
    std::normal_distribution<float> normal(0.0f, 3.0f);
    for (float& v : logits) v = normal(rng);
    const float max = *std::max_element(logits.begin(), logits.end());
    long double want = 0;
    for (float v : logits) want += std::exp(static_cast<long double>(v) - max);
    EXPECT_NEAR(sum_exp_row(logits.data(), n, max) / static_cast<double>(want), 1.0, 1e-14) << n;
  }
}

TEST(SoftmaxExpTest, MaxRowSkipsNans) {
  const float nan = std::nanf("");
  for (size_t n : {size_t{1}, size_t{9}, size_t{100}}) {
    std::vector<float> row(n);
    for (size_t i = 0; i < n; ++i) row[i] = static_cast<float>((i * 37) % 101) - 50.0f;
    row[0] = nan;
    float want = -std::numeric_limits<float>::infinity();
    for (size_t i = 1; i < n; ++i) want = std::max(want, row[i]);
    EXPECT_EQ(max_row(row.data(), n), want) << n;
  }
  const std::vector<float> masked = {-std::numeric_limits<float>::infinity(), nan};
  EXPECT_EQ(max_row(masked.data(), 2), -std::numeric_limits<float>::infinity());
}

}  // namespace
}  // namespace llmbatch
