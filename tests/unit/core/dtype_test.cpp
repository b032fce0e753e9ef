// f16/bf16 conversions checked against independent references: the
// compiler's _Float16 (IEEE binary16, hardware rounding) for f16, and an
// exact double-precision nearest-even search for bf16.
#include "core/dtype.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace llmbatch {
namespace {

uint32_t bits_of(float f) { return std::bit_cast<uint32_t>(f); }

// Value of an f16 bit pattern from its definition, in double.
double f16_reference_value(uint16_t h) {
  const int sign = (h >> 15) ? -1 : 1;
  const int exp = (h >> 10) & 0x1f;
  const int mant = h & 0x3ff;
  if (exp == 0) return sign * std::ldexp(mant, -24);
  if (exp == 31) return mant ? std::numeric_limits<double>::quiet_NaN() : sign * INFINITY;
  return sign * std::ldexp(1024 + mant, exp - 25);
}

TEST(DTypeTest, AllF16ValuesDecodeExactly) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = f16_to_f32(static_cast<uint16_t>(h));
    const double ref = f16_reference_value(static_cast<uint16_t>(h));
    if (std::isnan(ref)) {
      ASSERT_TRUE(std::isnan(f)) << h;
      ASSERT_EQ(std::signbit(f), (h & 0x8000) != 0) << h;
    } else {
      ASSERT_EQ(static_cast<double>(f), ref) << "f16 bits " << h;
      ASSERT_EQ(std::signbit(f), (h & 0x8000) != 0) << h;  // -0 stays -0
      ASSERT_EQ(static_cast<float>(static_cast<_Float16>(f)), f) << h;
    }
  }
}

TEST(DTypeTest, AllF16ValuesRoundTrip) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const uint16_t back = f32_to_f16(f16_to_f32(static_cast<uint16_t>(h)));
    if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) {
      EXPECT_EQ(back & 0x7c00, 0x7c00) << h;  // NaN stays NaN (quieted)
      EXPECT_NE(back & 0x3ff, 0) << h;
      EXPECT_EQ(back & 0x8000, h & 0x8000) << h;
    } else {
      ASSERT_EQ(back, h) << "f16 bits " << h;
    }
  }
}

// Every f32 halfway between two adjacent f16 values, and its neighbours,
// must round like the hardware (_Float16 uses round-to-nearest-even).
TEST(DTypeTest, F32ToF16MatchesHardwareAtEveryTieAndNeighbour) {
  for (uint32_t h = 0; h < 0x7c00; ++h) {  // all finite positives
    const float lo = f16_to_f32(static_cast<uint16_t>(h));
    const float hi = f16_to_f32(static_cast<uint16_t>(h + 1));  // h+1 = 0x7c00 is Inf
    const float mid = std::isinf(hi) ? 65520.0f : static_cast<float>((double(lo) + double(hi)) / 2);
    for (float x : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, INFINITY), lo}) {
      for (float s : {x, -x}) {
        const _Float16 hw = static_cast<_Float16>(s);
        uint16_t hw_bits;
        std::memcpy(&hw_bits, &hw, 2);
        ASSERT_EQ(f32_to_f16(s), hw_bits) << "x=" << s;
      }
    }
  }
}

TEST(DTypeTest, F32ToF16RandomSweepMatchesHardware) {
  std::mt19937 rng(7);
  for (int i = 0; i < 2000000; ++i) {
    const float f = std::bit_cast<float>(static_cast<uint32_t>(rng()));
    if (std::isnan(f)) continue;
    const _Float16 hw = static_cast<_Float16>(f);
    uint16_t hw_bits;
    std::memcpy(&hw_bits, &hw, 2);
    ASSERT_EQ(f32_to_f16(f), hw_bits) << "bits " << bits_of(f);
  }
}

// Nearest bf16 to x by exhaustive comparison of the two candidates around
// it, in double; ties pick the even mantissa.
uint16_t bf16_reference(float x) {
  const uint32_t b = bits_of(x);
  const uint16_t down = static_cast<uint16_t>(b >> 16);  // toward zero
  const uint16_t up = static_cast<uint16_t>(down + 1);   // away from zero
  const double dx = std::fabs(double(x));
  const double ddown = std::fabs(double(bf16_to_f32(down)));
  // Rounding away from the largest finite bf16 goes to Inf, as IEEE says.
  const double dup = (up & 0x7fff) == 0x7f80 ? std::ldexp(1.0, 128) : std::fabs(double(bf16_to_f32(up)));
  const double to_down = dx - ddown, to_up = dup - dx;
  if (to_down < to_up) return down;
  if (to_up < to_down) return up;
  return (down & 1) ? up : down;
}

TEST(DTypeTest, F32ToBf16EdgeCases) {
  const std::vector<float> cases = {
      0.0f, -0.0f, 1.0f, -1.0f, INFINITY, -INFINITY,
      std::numeric_limits<float>::max(), -std::numeric_limits<float>::max(),
      std::numeric_limits<float>::min(), std::numeric_limits<float>::denorm_min(),
      -std::numeric_limits<float>::denorm_min(),
      std::bit_cast<float>(0x3f808000u),  // tie, even below -> down
      std::bit_cast<float>(0x3f818000u),  // tie, odd below -> up
      std::bit_cast<float>(0x3f808001u),  // just above tie -> up
      std::bit_cast<float>(0x7f7f8000u),  // tie at the top: rounds to even = Inf
      std::bit_cast<float>(0x7f7f7fffu),  // just below: stays finite
      std::bit_cast<float>(0x007fffffu),  // largest subnormal: rounds to min normal
      std::bit_cast<float>(0x00008000u),  // subnormal tie
  };
  for (float f : cases) EXPECT_EQ(f32_to_bf16(f), bf16_reference(f)) << "bits " << bits_of(f);
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x7f7f8000u)), 0x7f80);
  EXPECT_EQ(f32_to_bf16(-0.0f), 0x8000);
}

TEST(DTypeTest, F32ToBf16NaNStaysNaN) {
  // A NaN whose payload sits only in the low 16 bits would truncate to Inf.
  for (uint32_t bits : {0x7f800001u, 0xff800001u, 0x7fc00000u, 0x7fffffffu, 0xffc00001u}) {
    const uint16_t h = f32_to_bf16(std::bit_cast<float>(bits));
    EXPECT_TRUE(std::isnan(bf16_to_f32(h))) << bits;
    EXPECT_EQ(h & 0x8000, (bits >> 16) & 0x8000) << bits;
  }
}

TEST(DTypeTest, F32ToBf16SweepMatchesReference) {
  // Every 4099th bit pattern plus random ones: all exponents, both signs.
  for (uint64_t b = 0; b < (1ull << 32); b += 4099) {
    const float f = std::bit_cast<float>(static_cast<uint32_t>(b));
    if (std::isnan(f)) continue;
    ASSERT_EQ(f32_to_bf16(f), bf16_reference(f)) << "bits " << b;
  }
}

TEST(DTypeTest, Bf16RoundTripsAllValues) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = bf16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(f32_to_bf16(f), h);
  }
}

TEST(DTypeTest, BulkConversionsAgreeWithScalar) {
  const std::vector<float> src = {0.1f, -2.5f, 65504.0f, 1e-6f, 3.14159f};
  for (DType t : {DType::F32, DType::F16, DType::BF16}) {
    std::vector<uint8_t> packed(src.size() * dtype_size(t));
    dtype_from_f32(t, src.data(), packed.data(), src.size());
    std::vector<float> back(src.size());
    dtype_to_f32(t, packed.data(), back.data(), src.size());
    for (size_t i = 0; i < src.size(); ++i) {
      float expect = src[i];
      if (t == DType::F16) expect = f16_to_f32(f32_to_f16(src[i]));
      if (t == DType::BF16) expect = bf16_to_f32(f32_to_bf16(src[i]));
      EXPECT_EQ(back[i], expect) << dtype_name(t) << " " << i;
    }
  }
}

TEST(DTypeTest, NamesSizesAndParsing) {
  DType t;
  EXPECT_TRUE(dtype_parse("bfloat16", &t));
  EXPECT_EQ(t, DType::BF16);
  EXPECT_TRUE(dtype_parse("F16", &t));
  EXPECT_EQ(t, DType::F16);
  EXPECT_TRUE(dtype_parse("float32", &t));
  EXPECT_EQ(t, DType::F32);
  EXPECT_FALSE(dtype_parse("I8", &t));
  EXPECT_FALSE(dtype_parse("", &t));
  EXPECT_EQ(dtype_size(DType::F32), 4u);
  EXPECT_EQ(dtype_size(DType::BF16), 2u);
  EXPECT_EQ(dtype_name(DType::F16), "F16");
}

}  // namespace
}  // namespace llmbatch
