// The RMSNorm kernel on a GPU must give the same bits as its host math
// (same reduction order, fmaf on both sides), for any number of rows.
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_rmsnorm.h"
#include "rmsnorm.cuh"

namespace llmbatch {
namespace {

TEST(RmsNormCudaTest, KernelMatchesHostMathBitwise) {
  if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device";
  std::mt19937 rng(11);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  for (int hidden : {1, 255, 576, 4099}) {
    const int rows = 37;
    std::vector<float> x(rows * hidden), w(hidden), y(rows * hidden), expect(rows * hidden);
    for (auto& v : x) v = dist(rng);
    for (auto& v : w) v = dist(rng);
    cuda_rmsnorm_host(x, w, y, rows, hidden, 1e-5f);
    for (int r = 0; r < rows; ++r) {
      kernels::rmsnorm_row_host(&x[r * hidden], w.data(), &expect[r * hidden], hidden, 1e-5f);
    }
    ASSERT_EQ(y, expect) << "hidden " << hidden;
  }
}

TEST(RmsNormCudaTest, DeviceCountNeverThrows) { EXPECT_GE(cuda_device_count(), 0); }

}  // namespace
}  // namespace llmbatch
