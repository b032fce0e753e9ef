#include "core/philox.h"

#include <cmath>

#include <gtest/gtest.h>

namespace llmbatch {
namespace {

// Known-answer vectors published with Random123 (kat_vectors, philox4x32_10).
TEST(PhiloxTest, MatchesRandom123KnownAnswers) {
  EXPECT_EQ(philox4x32({0, 0, 0, 0}, {0, 0}),
            (PhiloxCounter{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}));
  EXPECT_EQ(philox4x32({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, {0xffffffffu, 0xffffffffu}),
            (PhiloxCounter{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}));
  EXPECT_EQ(philox4x32({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, {0xa4093822u, 0x299f31d0u}),
            (PhiloxCounter{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}));
}

TEST(PhiloxTest, UniformIsInHalfOpenUnitInterval) {
  EXPECT_GT(philox_uniform(0), 0.0f);
  EXPECT_EQ(philox_uniform(0xffffffffu), 1.0f);
}

TEST(PhiloxTest, NormalsHaveUnitMomentsApproximately) {
  double sum = 0, sum_sq = 0;
  const int n = 200000;
  for (uint32_t i = 0; i < n / 2; ++i) {
    const auto r = philox4x32({i, 0, 0, 0}, {42, 0});
    for (float z : philox_normal_pair(r[0], r[1])) {
      ASSERT_TRUE(std::isfinite(z));
      sum += z;
      sum_sq += double(z) * z;
    }
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sum_sq / n, 1.0, 0.02);
}

}  // namespace
}  // namespace llmbatch
