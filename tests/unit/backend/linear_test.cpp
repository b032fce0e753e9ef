// The engine's GEMM: accurate against a naive float64 product, and its
// bitwise batch invariance, which the engine's reproducibility rests on.
#include "backend/cpu/linear.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "test_util.h"

namespace llmbatch {
namespace {

using testing::naive_product;
using testing::random_floats;
using testing::to_bf16;

struct Case {
  DType weight, storage;
};

class LinearAccuracyTest : public ::testing::TestWithParam<Case> {};

TEST_P(LinearAccuracyTest, MatchesNaiveProduct) {
  const auto [weight_dtype, storage] = GetParam();
  for (auto [rows, in, out] : {std::array<int64_t, 3>{1, 64, 96}, {17, 97, 33}, {70, 256, 130}, {5, 3, 1}}) {
    const auto x = random_floats(rows * in, 1.0f, 1);
    auto w = random_floats(out * in, 0.1f, 2);
    std::vector<uint8_t> stored(w.size() * dtype_size(weight_dtype));
    dtype_from_f32(weight_dtype, w.data(), stored.data(), w.size());
    dtype_to_f32(weight_dtype, stored.data(), w.data(), w.size());
    if (storage == DType::BF16) {
      for (auto& v : w) v = testing::round_bf16(v);
    }
    HugePageArena arena("test weights");
    const Linear linear(arena, stored.data(), weight_dtype, out, in, storage);
    std::vector<float> y(rows * out);
    linear.forward(x.data(), rows, y.data());
    const auto ref = naive_product(x, w, rows, in, out, false);
    // f32 accumulation over `in` terms of size ~0.1: relative error ~1e-6.
    for (size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(y[i], ref[i], 1e-4 + 1e-5 * std::abs(ref[i])) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, LinearAccuracyTest,
                         ::testing::Values(Case{DType::F32, DType::F32}, Case{DType::BF16, DType::BF16},
                                           Case{DType::F32, DType::BF16}, Case{DType::F16, DType::F32},
                                           Case{DType::BF16, DType::F32}));

// A probe row's output bits must not depend on how many rows run with it,
// on where it sits, or on the other rows' values. Shapes: the tiny preset,
// SmolLM-135M and Llama-3.2-1B (fused qkv, gate+up, down, o).
TEST(LinearInvarianceTest, RowBitsIndependentOfBatch) {
  const std::vector<std::pair<int64_t, int64_t>> shapes = {{64, 128}, {128, 64}, {576, 960}, {576, 3072},
                                                           {1536, 576}, {2048, 3072}, {8192, 2048}};
  const std::vector<int64_t> batch_sizes = {1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 127, 129, 300};
  for (DType storage : {DType::BF16, DType::F32}) {
    for (const auto& [in, out] : shapes) {
      if (storage == DType::F32 && in * out > 576 * 3072) continue;  // keep the test short
      const auto w = to_bf16(random_floats(in * out, 0.05f, 3));
      HugePageArena arena("test weights");
      const Linear linear(arena, w.data(), DType::BF16, out, in, storage);
      const int64_t max_rows = batch_sizes.back();
      const auto x = random_floats(max_rows * in, 1.0f, 4);
      std::vector<float> alone(out), y(max_rows * out);
      linear.forward(x.data(), 1, alone.data());
      for (int64_t m : batch_sizes) {
        // The probe (row 0 of x) at position m / 2 of a batch of m others.
        std::vector<float> batch = random_floats(m * in, 1.0f, 5 + m);
        const int64_t at = m / 2;
        std::copy_n(x.begin(), in, batch.begin() + at * in);
        linear.forward(batch.data(), m, y.data());
        ASSERT_EQ(0, std::memcmp(alone.data(), y.data() + at * out, out * sizeof(float)))
            << "M=" << m << " shape " << in << "x" << out << " " << dtype_name(storage);
      }
    }
  }
}

// The contract behind the invariance: every output is one accumulator
// updated in k order, by fma(x, w, acc) on the AVX2 kernel and by
// acc + x * w (two roundings) on the portable one. Checked bit for bit
// against that chain written out in scalar code, for every row-tile size
// (1..6 rows, then blocks split into 4 + 3, 5 + 4 and 5 + 4 + 4 rows), odd and
// even in, and a partial panel.
TEST(LinearTest, EveryOutputIsTheSequentialChainOverK) {
  const bool fused = std::string(linear_kernel_name()) == "avx2+fma";
  for (DType storage : {DType::BF16, DType::F32}) {
    for (auto [in, out] : {std::pair<int64_t, int64_t>{97, 21}, {128, 48}, {1, 16}}) {
      const auto w = to_bf16(random_floats(in * out, 0.1f, 8));
      HugePageArena arena("test weights");
      const Linear linear(arena, w.data(), DType::BF16, out, in, storage);
      for (int64_t rows : {1, 2, 3, 4, 5, 6, 7, 9, 13}) {
        const auto x = random_floats(rows * in, 1.0f, 9 + rows);
        std::vector<float> y(rows * out);
        linear.forward(x.data(), rows, y.data());
        for (int64_t r = 0; r < rows; ++r) {
          for (int64_t o = 0; o < out; ++o) {
            float acc = 0.0f;
            for (int64_t k = 0; k < in; ++k) {
              const float xv = x[r * in + k], wv = bf16_to_f32(w[o * in + k]);
              acc = fused ? std::fma(xv, wv, acc) : acc + xv * wv;
            }
            ASSERT_EQ(std::bit_cast<uint32_t>(acc), std::bit_cast<uint32_t>(y[r * out + o]))
                << "row " << r << " of " << rows << ", col " << o << ", in " << in << " " << dtype_name(storage);
          }
        }
      }
    }
  }
}

TEST(LinearTest, ShapeStorageKernelAndZeroRows) {
  HugePageArena arena("test weights");
  const auto w = to_bf16(random_floats(64 * 33, 0.1f, 5));
  const Linear linear(arena, w.data(), DType::BF16, 33, 64, DType::BF16);
  EXPECT_EQ(linear.in_features(), 64);
  EXPECT_EQ(linear.out_features(), 33);
  EXPECT_EQ(linear.storage_dtype(), DType::BF16);
  const std::string kernel = linear_kernel_name();
  EXPECT_TRUE(kernel == "avx2+fma" || kernel == "portable") << kernel;
  linear.forward(nullptr, 0, nullptr);
  EXPECT_THROW(Linear(arena, w.data(), DType::BF16, 33, 64, DType::F16), InternalError);
}

TEST(LinearTest, ThreadCountIsSettable) {
  cpu_set_threads(1);
  EXPECT_EQ(cpu_threads(), 1);
  cpu_set_threads(0);
  EXPECT_GE(cpu_threads(), 1);
}

// Thread count changes which thread computes a panel, never its bits.
TEST(LinearTest, ThreadCountDoesNotChangeBits) {
  HugePageArena arena("test weights");
  const auto w = to_bf16(random_floats(256 * 200, 0.05f, 6));
  const Linear linear(arena, w.data(), DType::BF16, 200, 256, DType::BF16);
  const auto x = random_floats(37 * 256, 1.0f, 7);
  std::vector<float> one(37 * 200), two(37 * 200);
  cpu_set_threads(1);
  linear.forward(x.data(), 37, one.data());
  cpu_set_threads(2);
  linear.forward(x.data(), 37, two.data());
  cpu_set_threads(0);
  EXPECT_EQ(one, two);
}

// Each thread computes the panels of its own run, then takes panels from the
// back of others' runs: a team smaller than the thread count (a forward
// called from inside a parallel region runs on a team of one) and a team
// larger than the cores both compute every panel, to the same bits, for one
// tile and for row blocks that each restart the runs.
TEST(LinearTest, EveryPanelIsComputedByAnyTeam) {
  HugePageArena arena("test weights");
  const auto w = to_bf16(random_floats(256 * 200, 0.05f, 6));
  const Linear linear(arena, w.data(), DType::BF16, 200, 256, DType::BF16);
  for (const int64_t rows : {5, 130}) {  // 130 rows: two blocks of at most 96
    const auto x = random_floats(rows * 256, 1.0f, 8);
    std::vector<float> want(rows * 200);
    cpu_set_threads(1);
    linear.forward(x.data(), rows, want.data());
    cpu_set_threads(5);
    std::vector<float> wide(rows * 200);
    linear.forward(x.data(), rows, wide.data());
    EXPECT_EQ(want, wide) << rows << " rows, 5 threads";
    std::vector<std::vector<float>> nested(3, std::vector<float>(rows * 200));
#pragma omp parallel for num_threads(3)
    for (int i = 0; i < 3; ++i) linear.forward(x.data(), rows, nested[i].data());
    for (const auto& got : nested) EXPECT_EQ(want, got) << rows << " rows, inside a parallel region";
    cpu_set_threads(0);
  }
}

}  // namespace
}  // namespace llmbatch
