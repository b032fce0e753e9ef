#include "backend/cpu/vec.h"

#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace llmbatch {
namespace {

TEST(VecTest, DotMatchesDoubleForOddLengths) {
  std::mt19937 rng(1);
  std::normal_distribution<float> dist;
  for (int n : {0, 1, 7, 8, 9, 64, 97, 128, 1000}) {
    std::vector<float> a(n), b(n);
    for (auto& v : a) v = dist(rng);
    for (auto& v : b) v = dist(rng);
    double ref = 0;
    for (int i = 0; i < n; ++i) ref += double(a[i]) * b[i];
    EXPECT_NEAR(vec_dot(a.data(), b.data(), n), ref, 1e-5 * (1 + std::sqrt(double(n)))) << n;
  }
}

TEST(VecTest, DotIsSymmetricAndExactOnIntegers) {
  const std::vector<float> a = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, b = {2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2};
  EXPECT_EQ(vec_dot(a.data(), b.data(), 11), 132.0f);
  EXPECT_EQ(vec_dot(b.data(), a.data(), 11), 132.0f);
}

// One call per tile gives the bits of one vec_dot per key.
TEST(VecTest, TileScoresEqualPerKeyDots) {
  std::mt19937 rng(2);
  std::normal_distribution<float> dist;
  const int64_t n = 5, dim = 19;
  std::vector<float> q(dim), keys(n * dim), scores(n);
  for (auto& v : q) v = dist(rng);
  for (auto& v : keys) v = dist(rng);
  vec_tile_scores(q.data(), keys.data(), n, dim, 0.125f, scores.data());
  for (int64_t j = 0; j < n; ++j) EXPECT_EQ(scores[j], vec_dot(q.data(), keys.data() + j * dim, dim) * 0.125f) << j;
}

TEST(VecTest, TileAccumulateScaleAdd) {
  std::vector<float> y = {1, 2, 3};
  const std::vector<float> p = {0.5f, 0.25f}, values = {10, 20, 30, 0, 0, 0};
  vec_tile_accumulate(p.data(), values.data(), 2, 3, y.data());
  EXPECT_EQ(y, (std::vector<float>{6, 12, 18}));
  const std::vector<float> x = {10, 20, 30};
  vec_scale(2.0f, y.data(), 3);
  EXPECT_EQ(y, (std::vector<float>{12, 24, 36}));
  vec_add(x.data(), y.data(), 3);
  EXPECT_EQ(y, (std::vector<float>{22, 44, 66}));
}

}  // namespace
}  // namespace llmbatch
