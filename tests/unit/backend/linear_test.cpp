// The engine's GEMM: accurate against a naive float64 product, and its
// bitwise batch invariance, which the engine's reproducibility rests on.
#include "backend/cpu/linear.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/simd.h"
#include "core/error.h"
#include "test_util.h"

namespace llmbatch {
namespace {

using testing::naive_product;
using testing::random_floats;
using testing::to_bf16;

// The kernels this CPU runs for `storage`.
std::vector<LinearKernel> kernels_for(DType storage) {
  std::vector<LinearKernel> out;
  for (LinearKernel k : {LinearKernel::Portable, LinearKernel::Avx2, LinearKernel::Avx512Bf16}) {
    if (linear_kernel_supported(k, storage)) out.push_back(k);
  }
  return out;
}

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
    for (LinearKernel kernel : kernels_for(storage)) {
      HugePageArena arena("test weights");
      const Linear linear(arena, stored.data(), weight_dtype, out, in, storage, kernel);
      std::vector<float> y(rows * out);
      linear.forward(x.data(), rows, y.data());
      // The BF16 kernel's activations are bf16 (linear.h).
      const auto ref = naive_product(x, w, rows, in, out, kernel == LinearKernel::Avx512Bf16);
      // f32 accumulation over `in` terms of size ~0.1: relative error ~1e-6.
      for (size_t i = 0; i < y.size(); ++i) {
        ASSERT_NEAR(y[i], ref[i], 1e-4 + 1e-5 * std::abs(ref[i])) << i << " " << linear_kernel_name(kernel);
      }
    }
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
      for (LinearKernel kernel : kernels_for(storage)) {
        if (kernel == LinearKernel::Portable) continue;  // slow; its order is checked below
        const auto w = to_bf16(random_floats(in * out, 0.05f, 3));
        HugePageArena arena("test weights");
        const Linear linear(arena, w.data(), DType::BF16, out, in, storage, kernel);
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
              << "M=" << m << " shape " << in << "x" << out << " " << dtype_name(storage) << " "
              << linear_kernel_name(kernel);
        }
      }
    }
  }
}

// One VDPBF16PS step (lane 0 of the 512-bit form the kernel uses): acc +
// x0·w0 + x1·w1 as the CPU rounds it.
__attribute__((target("avx512f,avx512bf16"))) float dot_pair_bf16(float acc, uint32_t x, uint32_t w) {
  const __m512 r = _mm512_dpbf16_ps(_mm512_set1_ps(acc), (__m512bh)_mm512_set1_epi32(static_cast<int>(x)),
                                    (__m512bh)_mm512_set1_epi32(static_cast<int>(w)));
  return _mm512_cvtss_f32(r);
}

// Output (r, o) written out as its kernel's chain in scalar code.
float sequential_chain(LinearKernel kernel, const float* x, const uint16_t* w, int64_t in) {
  float acc = 0.0f;
  if (kernel == LinearKernel::Avx512Bf16) {
    const auto pair = [in](auto value, int64_t k) -> uint32_t {
      return uint32_t{value(k)} | (k + 1 < in ? uint32_t{value(k + 1)} << 16 : 0u);
    };
    for (int64_t k = 0; k < in; k += 2) {
      acc = dot_pair_bf16(acc, pair([x](int64_t i) { return f32_to_bf16(x[i]); }, k),
                          pair([w](int64_t i) { return w[i]; }, k));
    }
    return acc;
  }
  for (int64_t k = 0; k < in; ++k) {
    const float xv = x[k], wv = bf16_to_f32(w[k]);
    acc = kernel == LinearKernel::Avx2 ? std::fma(xv, wv, acc) : acc + xv * wv;
  }
  return acc;
}

// The contract behind the invariance: every output is one accumulator
// updated in k order, by fma(x, w, acc) on the AVX2 kernel, by one
// VDPBF16PS per k pair on the BF16 one, and by acc + x * w (two roundings)
// on the portable one. Checked bit for bit against that chain written out
// in scalar code, for every row-tile size (1..6 rows for AVX2, 1..12 for
// BF16, then blocks split into equal tiles: 7 as 4 + 3, 13 as 5 + 4 + 4 or
// 7 + 6, 25 as 9 + 8 + 8), odd and even in, and a partial panel.
TEST(LinearTest, EveryOutputIsTheSequentialChainOverK) {
  for (DType storage : {DType::BF16, DType::F32}) {
    for (LinearKernel kernel : kernels_for(storage)) {
      for (auto [in, out] : {std::pair<int64_t, int64_t>{97, 21}, {128, 48}, {1, 16}}) {
        const auto w = to_bf16(random_floats(in * out, 0.1f, 8));
        HugePageArena arena("test weights");
        const Linear linear(arena, w.data(), DType::BF16, out, in, storage, kernel);
        for (int64_t rows : {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 25}) {
          const auto x = random_floats(rows * in, 1.0f, 9 + rows);
          std::vector<float> y(rows * out);
          linear.forward(x.data(), rows, y.data());
          for (int64_t r = 0; r < rows; ++r) {
            for (int64_t o = 0; o < out; ++o) {
              const float want = sequential_chain(kernel, x.data() + r * in, w.data() + o * in, in);
              ASSERT_EQ(std::bit_cast<uint32_t>(want), std::bit_cast<uint32_t>(y[r * out + o]))
                  << "row " << r << " of " << rows << ", col " << o << ", in " << in << " " << dtype_name(storage)
                  << " " << linear_kernel_name(kernel);
            }
          }
        }
      }
    }
  }
}

// The BF16 kernel rounds activations as f32_to_bf16 does: halfway cases to
// even, up into the next binade, to Inf, NaN kept NaN (w = [1, 0] passes
// x[0] through; not -0, which the accumulator's +0 turns into +0).
TEST(LinearTest, Bf16KernelRoundsActivationsToNearestEven) {
  if (!linear_kernel_supported(LinearKernel::Avx512Bf16, DType::BF16)) GTEST_SKIP() << "needs AVX512_BF16";
  const std::vector<uint16_t> w = {f32_to_bf16(1.0f), 0};
  HugePageArena arena("test weights");
  const Linear linear(arena, w.data(), DType::BF16, 1, 2, DType::BF16, LinearKernel::Avx512Bf16);
  for (const uint32_t bits : {0x3f808000u, 0x3f818000u, 0x3f80c000u, 0x3f7fffffu, 0xbf808001u, 0x7f7fffffu,
                              0x00000001u, 0x7f800000u}) {
    const float x[2] = {std::bit_cast<float>(bits), 3.0f};
    float y = 0.0f;
    linear.forward(x, 1, &y);
    const float want = bf16_to_f32(f32_to_bf16(x[0]));
    EXPECT_EQ(std::bit_cast<uint32_t>(want), std::bit_cast<uint32_t>(y)) << std::hex << bits;
  }
  const float nan[2] = {std::bit_cast<float>(0x7f800001u), 0.0f};
  float y = 0.0f;
  linear.forward(nan, 1, &y);
  EXPECT_TRUE(std::isnan(y));
}

TEST(LinearTest, ShapeStorageKernelAndZeroRows) {
  HugePageArena arena("test weights");
  const auto w = to_bf16(random_floats(64 * 33, 0.1f, 5));
  const Linear linear(arena, w.data(), DType::BF16, 33, 64, DType::BF16);
  EXPECT_EQ(linear.in_features(), 64);
  EXPECT_EQ(linear.out_features(), 33);
  EXPECT_EQ(linear.storage_dtype(), DType::BF16);
  EXPECT_EQ(linear.kernel(), linear_kernel(DType::BF16));
  linear.forward(nullptr, 0, nullptr);
  EXPECT_THROW(Linear(arena, w.data(), DType::BF16, 33, 64, DType::F16), InternalError);
  // The BF16 kernel needs BF16 weights.
  EXPECT_THROW(Linear(arena, w.data(), DType::BF16, 33, 64, DType::F32, LinearKernel::Avx512Bf16), InternalError);
}

// The best kernel is the one the CPU's features allow; every kernel has a
// name of its own.
TEST(LinearTest, KernelFollowsCpuFeatures) {
  EXPECT_TRUE(linear_kernel_supported(LinearKernel::Portable, DType::F32));
  EXPECT_FALSE(linear_kernel_supported(LinearKernel::Avx512Bf16, DType::F32));
  EXPECT_EQ(linear_kernel_supported(LinearKernel::Avx2, DType::BF16), cpu_supports_avx2_fma());
  EXPECT_EQ(linear_kernel_supported(LinearKernel::Avx512Bf16, DType::BF16), cpu_supports_avx512_bf16());
  const LinearKernel f32 = cpu_supports_avx2_fma() ? LinearKernel::Avx2 : LinearKernel::Portable;
  EXPECT_EQ(linear_kernel(DType::F32), f32);
  EXPECT_EQ(linear_kernel(DType::BF16), cpu_supports_avx512_bf16() ? LinearKernel::Avx512Bf16 : f32);
  EXPECT_STREQ(linear_kernel_name(LinearKernel::Portable), "portable");
  EXPECT_STREQ(linear_kernel_name(LinearKernel::Avx2), "avx2+fma");
  EXPECT_STREQ(linear_kernel_name(LinearKernel::Avx512Bf16), "avx512-bf16");
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
