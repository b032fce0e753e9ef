// SwiGLU's silu(gate) · up against float64, the polynomial exp behind it
// against std::exp2, and the CPU feature probe.
#include "backend/cpu/activation.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "backend/cpu/cpu_features.h"
#include "backend/cpu/simd_exp.h"
#include "test_util.h"

namespace llmbatch {
namespace {

using testing::random_floats;

double silu_mul_f64(double g, double u) { return g / (1.0 + std::exp(-g)) * u; }

TEST(ActivationTest, SiluMulMatchesFloat64) {
  // ffn 37: four full vectors and a 5-wide tail; gates up to ±40 reach both
  // saturated ends of the sigmoid.
  const int64_t tokens = 5, ffn = 37;
  auto gate_up = random_floats(tokens * 2 * ffn, 8.0f, 11);
  gate_up[0] = 40.0f;
  gate_up[1] = -40.0f;
  gate_up[2] = 0.0f;
  gate_up[3] = -100.0f;  // e^100 overflows f32: silu must still give -0-ish, not NaN
  std::vector<float> out(tokens * ffn);
  silu_mul_rows(gate_up.data(), tokens, ffn, out.data());
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t i = 0; i < ffn; ++i) {
      const double want = silu_mul_f64(gate_up[t * 2 * ffn + i], gate_up[t * 2 * ffn + ffn + i]);
      ASSERT_TRUE(std::isfinite(out[t * ffn + i])) << t << "," << i;
      ASSERT_NEAR(out[t * ffn + i], want, 1e-6 + 4e-7 * std::abs(want)) << t << "," << i;
    }
  }
}

// On AVX2 machines every element, tail included, is the formula
// g / (1 + exp2_avx2(g · -log2 e)) · u, bit for bit. (A 16-lane version
// with exp2_avx512 gave the same bits but ran 20% slower on Zen 5: its
// 512-bit division.)
TEST(ActivationTest, SiluMulIsTheAvx2FormulaBitForBit) {
  if (!cpu_supports_avx2_fma()) GTEST_SKIP() << "needs AVX2 + FMA";
  const int64_t tokens = 3, ffn = 1003;  // 125 vectors of 8 and a 3-wide tail
  const auto gate_up = random_floats(tokens * 2 * ffn, 8.0f, 13);
  std::vector<float> out(tokens * ffn);
  silu_mul_rows(gate_up.data(), tokens, ffn, out.data());
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t i = 0; i < ffn; ++i) {
      const float g = gate_up[t * 2 * ffn + i], u = gate_up[t * 2 * ffn + ffn + i];
      const float want = [&]() __attribute__((target("avx2,fma"))) {
        const __m256 gv = _mm256_set1_ps(g);
        const __m256 e = exp2_avx2(_mm256_mul_ps(gv, _mm256_set1_ps(-1.4426950408889634f)));
        return _mm256_cvtss_f32(
            _mm256_mul_ps(_mm256_div_ps(gv, _mm256_add_ps(_mm256_set1_ps(1.0f), e)), _mm256_set1_ps(u)));
      }();
      ASSERT_EQ(std::bit_cast<uint32_t>(want), std::bit_cast<uint32_t>(out[t * ffn + i])) << t << "," << i;
    }
  }
}

// Elementwise: a row's bits do not depend on the other rows or on the row count.
TEST(ActivationTest, RowBitsIndependentOfBatch) {
  const int64_t ffn = 1536;
  const auto gate_up = random_floats(9 * 2 * ffn, 4.0f, 12);
  std::vector<float> all(9 * ffn), one(ffn);
  silu_mul_rows(gate_up.data(), 9, ffn, all.data());
  silu_mul_rows(gate_up.data() + 4 * 2 * ffn, 1, ffn, one.data());
  EXPECT_EQ(0, std::memcmp(one.data(), all.data() + 4 * ffn, ffn * sizeof(float)));
}

TEST(SimdExpTest, Exp2WithinTwoUlpAndFlushesBelowTheNormalRange) {
  if (!cpu_supports_avx2_fma()) GTEST_SKIP() << "needs AVX2 + FMA";
  std::vector<float> xs;
  for (float x = -130.0f; x <= 127.0f; x += 0.173f) xs.push_back(x);
  for (float x : {-0.5f, 0.5f, 0.0f, -126.0f, 126.9f}) xs.push_back(x);
  xs.push_back(-std::numeric_limits<float>::infinity());
  while (xs.size() % 8) xs.push_back(0.0f);
  std::vector<float> got(xs.size());
  for (size_t i = 0; i < xs.size(); i += 8) {
    [&]() __attribute__((target("avx2,fma"))) {
      _mm256_storeu_ps(got.data() + i, exp2_avx2(_mm256_loadu_ps(xs.data() + i)));
    }();
  }
  for (size_t i = 0; i < xs.size(); ++i) {
    const double want = std::exp2(static_cast<double>(xs[i]));
    if (xs[i] < -126.0f) {
      EXPECT_EQ(got[i], 0.0f) << xs[i];
    } else {
      const double ulp = std::ldexp(1.0, std::ilogb(static_cast<float>(want)) - 23);
      EXPECT_LE(std::abs(got[i] - want), 2 * ulp) << "x = " << xs[i];
    }
  }
}

// The 16-lane exp2 does exp2_avx2's operations: the same bits per lane.
TEST(SimdExpTest, Exp2Avx512GivesTheAvx2Bits) {
  if (!cpu_supports_avx2_fma() || !cpu_supports_avx512f()) GTEST_SKIP() << "needs AVX2, FMA and AVX-512F";
  std::vector<float> xs;
  for (float x = -140.0f; x <= 130.0f; x += 0.0731f) xs.push_back(x);
  for (float x : {-126.0f, -127.0f, 127.0f, -0.0f, std::numeric_limits<float>::infinity(),
                  -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
    xs.push_back(x);
  }
  while (xs.size() % 16) xs.push_back(0.5f);
  std::vector<float> narrow(xs.size()), wide(xs.size());
  for (size_t i = 0; i < xs.size(); i += 8) {
    [&]() __attribute__((target("avx2,fma"))) {
      _mm256_storeu_ps(narrow.data() + i, exp2_avx2(_mm256_loadu_ps(xs.data() + i)));
    }();
  }
  for (size_t i = 0; i < xs.size(); i += 16) {
    [&]() __attribute__((target("avx512f"))) {
      _mm512_storeu_ps(wide.data() + i, exp2_avx512(_mm512_loadu_ps(xs.data() + i)));
    }();
  }
  EXPECT_EQ(0, std::memcmp(narrow.data(), wide.data(), xs.size() * sizeof(float)));
}

TEST(CpuFeaturesTest, ProbeIsStableAndMatchesTheCompilerBuiltin) {
  const bool once = cpu_supports_avx2_fma();
  EXPECT_EQ(once, cpu_supports_avx2_fma());
  EXPECT_EQ(once, __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
  const bool bf16 = cpu_supports_avx512_bf16();
  EXPECT_EQ(bf16, cpu_supports_avx512_bf16());
  EXPECT_EQ(bf16, __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16"));
  EXPECT_EQ(cpu_supports_avx512f(), __builtin_cpu_supports("avx512f") != 0);
}

// The bf16-grade exp2: within 1e-4 of exp2 where the result is normal,
// 0 below -126 and for -inf, NaN kept.
TEST(SimdExpTest, Exp2Bf16WithinATwentiethOfBf16sHalfUlp) {
  if (!cpu_supports_avx512f()) GTEST_SKIP() << "needs AVX-512F";
  std::vector<float> xs;
  for (float x = -130.0f; x <= 127.0f; x += 0.0173f) xs.push_back(x);
  for (float x : {-0.5f, 0.5f, 0.0f, -126.0f, 126.9f, 127.0f}) xs.push_back(x);
  xs.push_back(-std::numeric_limits<float>::infinity());
  xs.push_back(std::numeric_limits<float>::quiet_NaN());
  while (xs.size() % 16) xs.push_back(0.0f);
  std::vector<float> got(xs.size());
  for (size_t i = 0; i < xs.size(); i += 16) {
    [&]() __attribute__((target("avx512f"))) {
      _mm512_storeu_ps(got.data() + i, exp2_bf16_avx512(_mm512_loadu_ps(xs.data() + i)));
    }();
  }
  double worst = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (std::isnan(xs[i])) {
      EXPECT_TRUE(std::isnan(got[i]));
    } else if (xs[i] < -126.0f) {
      EXPECT_EQ(got[i], 0.0f) << xs[i];
    } else {
      const double want = std::exp2(static_cast<double>(xs[i]));
      worst = std::max(worst, std::abs(got[i] - want) / want);
    }
  }
  EXPECT_LT(worst, 1e-4);
}

}  // namespace
}  // namespace llmbatch
