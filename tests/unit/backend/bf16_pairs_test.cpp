#include "backend/cpu/bf16_pairs.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "backend/cpu/cpu_features.h"
#include "core/dtype.h"

namespace llmbatch {
namespace {

// Every value becomes f32_to_bf16's bits, in order, two to a word (the
// first in the low half), whatever n; ties, carries into the exponent,
// subnormals, infinities and NaNs included; the words past the row's are zero.
TEST(Bf16PairsTest, RowsBecomeF32ToBf16PairsWithZeroPadding) {
  if (!cpu_supports_avx512f()) GTEST_SKIP() << "needs AVX-512F";
  std::vector<float> row;
  for (const uint32_t bits : {0x3f808000u, 0x3f818000u, 0x3f80c000u, 0x3f7fffffu, 0xbf808001u, 0x7f7fffffu,
                              0x00000001u, 0x80008000u, 0x7f800000u, 0xff800000u, 0x7f800001u, 0xffc00000u}) {
    row.push_back(std::bit_cast<float>(bits));
  }
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 10.0f);
  while (row.size() < 45) row.push_back(normal(rng));
  for (const int64_t n : {1, 2, 15, 16, 17, 33, 45}) {
    SCOPED_TRACE("n " + std::to_string(n));
    const int64_t words = (n + 1) / 2, padded = (words + 7) / 8 * 8;
    std::vector<uint32_t> pairs(padded + 8, 0xdeadbeefu);
    row_to_bf16_pairs(row.data(), n, pairs.data());
    for (int64_t i = 0; i < n; ++i) {
      const uint16_t got = static_cast<uint16_t>(pairs[i / 2] >> (16 * (i % 2)));
      EXPECT_EQ(got, f32_to_bf16(row[i])) << "value " << i << " bits " << std::hex << std::bit_cast<uint32_t>(row[i]);
    }
    if (n % 2 == 1) {
      EXPECT_EQ(pairs[n / 2] >> 16, 0u) << "an odd row's last high half";
    }
    for (int64_t w = words; w < padded; ++w) EXPECT_EQ(pairs[w], 0u) << "padding word " << w;
    EXPECT_EQ(pairs[padded], 0xdeadbeefu) << "written past the padding";
  }
}

// With a scale: each value's f32 product, rounded the same way; the
// padding zero whatever the scale's sign.
TEST(Bf16PairsTest, ScaledRowsRoundTheF32Products) {
  if (!cpu_supports_avx512f()) GTEST_SKIP() << "needs AVX-512F";
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> row(45);
  for (auto& x : row) x = normal(rng);
  row[7] = std::bit_cast<float>(0x7f800001u);  // a signalling NaN stays a NaN
  for (const float scale : {0.18033688f, -3.0f, 1e-30f}) {
    std::vector<uint32_t> pairs(24, 0xdeadbeefu);
    row_to_bf16_pairs(row.data(), 45, pairs.data(), scale);
    EXPECT_EQ(pairs[22] >> 16, 0u) << "an odd row's last high half, scale " << scale;
    EXPECT_EQ(pairs[23], 0u) << "padding, scale " << scale;
    for (int64_t i = 0; i < 45; ++i) {
      const uint16_t got = static_cast<uint16_t>(pairs[i / 2] >> (16 * (i % 2)));
      const float product = row[i] * scale;
      if (std::isnan(product)) {
        EXPECT_TRUE(std::isnan(bf16_to_f32(got))) << "value " << i;
      } else {
        EXPECT_EQ(got, f32_to_bf16(product)) << "value " << i << " scale " << scale;
      }
    }
  }
}

}  // namespace
}  // namespace llmbatch
