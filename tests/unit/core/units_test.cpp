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
  for (const char* bad : {"", "GiB", "4 gigs", "-1GB", "1..5MB", ".5GB", "99999999TiB"}) {
    try {
      parse_byte_size(bad, "engine.kv_cache_memory");
      FAIL() << bad;
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.context().key, "engine.kv_cache_memory");
    }
  }
}

TEST(UnitsTest, FormatsBytes) {
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(1536), "1.50 KiB");
  EXPECT_EQ(format_bytes(3ull << 30), "3.00 GiB");
}

}  // namespace
}  // namespace llmbatch
