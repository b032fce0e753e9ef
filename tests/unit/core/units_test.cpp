#include "core/units.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace llmbatch {
namespace {

TEST(UnitsTest, ParsesDecimalAndBinaryUnits) {
  EXPECT_EQ(parse_byte_size("123", "k"), 123u);
  EXPECT_EQ(parse_byte_size("512B", "k"), 512u);
  EXPECT_EQ(parse_byte_size("2GB", "k"), 2000000000u);
  EXPECT_EQ(parse_byte_size("4GiB", "k"), 4ull << 30);
  EXPECT_EQ(parse_byte_size("1.5 MiB", "k"), 1572864u);
  EXPECT_EQ(parse_byte_size("3KiB", "k"), 3072u);
  EXPECT_EQ(parse_byte_size("1TB", "k"), 1000000000000u);
}

TEST(UnitsTest, RejectsGarbageNamingTheKey) {
  const std::string overflow = "1" + std::string(400, '0') + "GiB";  // beyond a double: inf
  const std::string underflow = "0." + std::string(400, '0') + "1";   // below a double: 0 (std::stod threw)
  for (const std::string& bad : std::initializer_list<std::string>{"", "GiB", "4 gigs", "-1GB", "1..5MB", ".5GB",
                                                                   "99999999TiB", overflow}) {
    try {
      parse_byte_size(bad, "engine.kv_cache_memory");
      FAIL() << bad;
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.context().key, "engine.kv_cache_memory");
    }
  }
  EXPECT_EQ(parse_byte_size(underflow, "engine.kv_cache_memory"), 0u);
}

TEST(UnitsTest, FormatsBytes) {
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(1536), "1.50 KiB");
  EXPECT_EQ(format_bytes(3ull << 30), "3.00 GiB");
}

}  // namespace
}  // namespace llmbatch
