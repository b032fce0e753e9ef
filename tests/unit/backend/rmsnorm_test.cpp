// The CPU's RMSNorm gives the bits of the shared host function (which the
// CUDA kernel follows) and a float64 RMSNorm to rounding.
#include "backend/cpu/rmsnorm.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "rmsnorm.cuh"
#include "test_util.h"

namespace llmbatch {
namespace {

using testing::random_floats;

// Sizes below, at and across the 256 lanes and the 8-wide vectors.
constexpr int64_t kHiddens[] = {1, 7, 8, 64, 255, 256, 257, 576, 1000, 2048, 3000};

TEST(RmsNormTest, RowHasTheHostFunctionsBits) {
  for (const int64_t hidden : kHiddens) {
    const auto x = random_floats(hidden, 3.0f, static_cast<uint32_t>(hidden));
    const auto w = random_floats(hidden, 1.0f, static_cast<uint32_t>(hidden + 1));
    std::vector<float> got(hidden), want(hidden);
    rmsnorm_row(x.data(), w.data(), got.data(), hidden, 1e-5f);
    kernels::rmsnorm_row_host(x.data(), w.data(), want.data(), static_cast<int>(hidden), 1e-5f);
    for (int64_t i = 0; i < hidden; ++i) {
      ASSERT_EQ(std::bit_cast<uint32_t>(want[i]), std::bit_cast<uint32_t>(got[i])) << "hidden " << hidden << " at " << i;
    }
  }
}

TEST(RmsNormTest, RowMatchesFloat64) {
  for (const int64_t hidden : kHiddens) {
    const auto x = random_floats(hidden, 3.0f, static_cast<uint32_t>(hidden + 2));
    const auto w = random_floats(hidden, 1.0f, static_cast<uint32_t>(hidden + 3));
    std::vector<float> y(hidden);
    rmsnorm_row(x.data(), w.data(), y.data(), hidden, 1e-6f);
    double sum_sq = 0;
    for (const float v : x) sum_sq += static_cast<double>(v) * v;
    const double inv = 1.0 / std::sqrt(sum_sq / static_cast<double>(hidden) + 1e-6);
    for (int64_t i = 0; i < hidden; ++i) {
      const double want = x[i] * inv * w[i];
      ASSERT_NEAR(y[i], want, 1e-5 * (1 + std::abs(want))) << "hidden " << hidden << " at " << i;
    }
  }
}

// Rows run in parallel; each row's bits are its own, in place (y = x) too.
TEST(RmsNormTest, RowsAreEachRow) {
  const int64_t rows = 37, hidden = 576;
  const auto x = random_floats(rows * hidden, 2.0f, 9);
  const auto w = random_floats(hidden, 1.0f, 10);
  std::vector<float> y(x.size()), in_place = x;
  rmsnorm_rows(x.data(), w.data(), y.data(), rows, hidden, 1e-5f);
  rmsnorm_rows(in_place.data(), w.data(), in_place.data(), rows, hidden, 1e-5f);
  EXPECT_EQ(y, in_place);
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<float> one(hidden);
    rmsnorm_row(x.data() + r * hidden, w.data(), one.data(), hidden, 1e-5f);
    ASSERT_EQ(0, std::memcmp(one.data(), y.data() + r * hidden, hidden * sizeof(float))) << "row " << r;
  }
}

}  // namespace
}  // namespace llmbatch
