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

TEST(VecTest, AxpyScaleAdd) {
  std::vector<float> y = {1, 2, 3};
  const std::vector<float> x = {10, 20, 30};
  vec_axpy(0.5f, x.data(), y.data(), 3);
  EXPECT_EQ(y, (std::vector<float>{6, 12, 18}));
  vec_scale(2.0f, y.data(), 3);
  EXPECT_EQ(y, (std::vector<float>{12, 24, 36}));
  vec_add(x.data(), y.data(), 3);
  EXPECT_EQ(y, (std::vector<float>{22, 44, 66}));
}

}  // namespace
}  // namespace llmbatch
