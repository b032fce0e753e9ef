// The oneDNN reference GEMM: accurate against a naive float64 product (it
// is the baseline benchmarks compare with), and the kernel choice helpers.
#include "backend/cpu/onednn_linear.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.h"

namespace llmbatch {
namespace {

using testing::naive_product;
using testing::random_floats;
using testing::to_bf16;

struct Case {
  DType weight, compute;
};

class OnednnLinearTest : public ::testing::TestWithParam<Case> {};

TEST_P(OnednnLinearTest, MatchesNaiveProduct) {
  const auto [weight_dtype, compute] = GetParam();
  if (compute == DType::BF16 && !cpu_supports_bf16_gemm()) GTEST_SKIP() << "no bf16 GEMM on this CPU";
  for (auto [rows, in, out] : {std::array<int64_t, 3>{1, 64, 96}, {17, 97, 33}, {300, 256, 130}}) {
    const auto x = random_floats(rows * in, 1.0f, 1);
    auto w = random_floats(out * in, 0.1f, 2);
    std::vector<uint8_t> stored(w.size() * dtype_size(weight_dtype));
    dtype_from_f32(weight_dtype, w.data(), stored.data(), w.size());
    dtype_to_f32(weight_dtype, stored.data(), w.data(), w.size());  // what the layer really holds
    if (compute == DType::BF16) {
      for (auto& v : w) v = testing::round_bf16(v);
    }
    const OnednnLinear linear(stored.data(), weight_dtype, out, in, compute);
    std::vector<float> y(rows * out);
    linear.forward(x.data(), rows, y.data());
    const auto ref = naive_product(x, w, rows, in, out, compute == DType::BF16);
    for (size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(y[i], ref[i], 1e-4 + 1e-5 * std::abs(ref[i])) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, OnednnLinearTest,
                         ::testing::Values(Case{DType::F32, DType::F32}, Case{DType::BF16, DType::BF16},
                                           Case{DType::F32, DType::BF16}, Case{DType::F16, DType::F32}));

TEST(OnednnLinearHelpersTest, ComputeDtypeFollowsWeightsRequestAndCpu) {
  EXPECT_EQ(linear_compute_dtype(DType::F32, DType::F32), DType::F32);
  EXPECT_EQ(linear_compute_dtype(DType::F16, DType::F16), DType::F32);
  const DType bf16_if_supported = cpu_supports_bf16_gemm() ? DType::BF16 : DType::F32;
  EXPECT_EQ(linear_compute_dtype(DType::BF16, DType::BF16), bf16_if_supported);
  EXPECT_EQ(linear_compute_dtype(DType::F32, DType::BF16), bf16_if_supported);
  EXPECT_EQ(linear_compute_dtype(DType::BF16, DType::F32), DType::F32);
}

TEST(OnednnLinearHelpersTest, ReportsImplementationAndShape) {
  const auto w = to_bf16(random_floats(64 * 32, 0.1f, 5));
  const DType compute = linear_compute_dtype(DType::BF16, DType::BF16);
  const OnednnLinear linear(w.data(), DType::BF16, 32, 64, compute);
  EXPECT_EQ(linear.in_features(), 64);
  EXPECT_EQ(linear.out_features(), 32);
  EXPECT_EQ(linear.compute_dtype(), compute);
  EXPECT_EQ(linear.implementation().find("ref"), std::string::npos) << linear.implementation();
  linear.forward(nullptr, 0, nullptr);  // zero rows: nothing to do
}

}  // namespace
}  // namespace llmbatch
