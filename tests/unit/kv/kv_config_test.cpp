#include "kv/kv_config.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/units.h"
#include "kv/kv_cache.h"

namespace llmbatch {
namespace {

// SmolLM-135M: 30 layers, 3 KV heads of 64 dims.
constexpr KvLayout kSmolLm{
    .num_layers = 30, .num_kv_heads = 3, .head_dim = 64, .dtype = DType::BF16};

template <typename F>
void expect_config_error(F&& f, const std::string& key) {
  try {
    f();
    FAIL() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.context().key, key) << e.what();
  }
}

TEST(KvConfigTest, AcceptsPowerOfTwoBlockSizes) {
  for (int64_t bs : {1, 2, 8, 16, 32, 1 << 16}) EXPECT_NO_THROW(kv_check_block_size(bs)) << bs;
}

TEST(KvConfigTest, RejectsOtherBlockSizesNamingTheKey) {
  for (int64_t bs : {0, -16, 3, 12, 17, 24, 1 << 17}) {
    expect_config_error([&] { kv_check_block_size(bs); }, "engine.block_size");
  }
}

TEST(KvConfigTest, BytesPerTokenCountsKAndVOfEveryLayer) {
  // 30 layers x (K + V) x 3 heads x 64 dims x 2 bytes.
  EXPECT_EQ(kv_bytes_per_token(kSmolLm), 23040u);
  KvLayout f32 = kSmolLm;
  f32.dtype = DType::F32;
  EXPECT_EQ(kv_bytes_per_token(f32), 46080u);
  EXPECT_EQ(kv_bytes_per_block(kSmolLm, 16), 23040u * 16);
}

TEST(KvConfigTest, NumBlocksFromAMemoryBudget) {
  // 4 GiB / (23040 B x 16 tokens) = 11650.8
  EXPECT_EQ(kv_num_blocks_for_memory(kSmolLm, 16, parse_byte_size("4GiB", "k")), 11650);
  // Exactly one block fits.
  EXPECT_EQ(kv_num_blocks_for_memory(kSmolLm, 1, 23040), 1);
}

TEST(KvConfigTest, MemoryTooSmallForOneBlockIsAConfigError) {
  expect_config_error([] { kv_num_blocks_for_memory(kSmolLm, 16, 0); }, "engine.kv_cache_memory");
  expect_config_error([] { kv_num_blocks_for_memory(kSmolLm, 16, 23040 * 16 - 1); },
                      "engine.kv_cache_memory");
  expect_config_error([] { kv_num_blocks_for_memory(kSmolLm, 12, 1 << 30); }, "engine.block_size");
}

TEST(KvConfigTest, RejectsBadLayouts) {
  KvLayout f16 = kSmolLm;
  f16.dtype = DType::F16;
  expect_config_error([&] { kv_check_layout(f16); }, "engine.kv_dtype");
  for (auto broken : {&KvLayout::num_layers, &KvLayout::num_kv_heads, &KvLayout::head_dim}) {
    KvLayout bad = kSmolLm;
    bad.*broken = 0;
    EXPECT_THROW(kv_check_layout(bad), ConfigError);
    EXPECT_THROW(kv_bytes_per_token(bad), ConfigError);
  }
}

TEST(KvConfigTest, RejectsBadCacheConfigs) {
  EXPECT_NO_THROW(kv_check_config({.block_size = 16, .num_blocks = 4, .watermark_blocks = 3}));
  expect_config_error([] { kv_check_config({.block_size = 16, .num_blocks = 0}); },
                      "engine.kv_cache_memory");
  expect_config_error([] { kv_check_config({.block_size = 6, .num_blocks = 8}); },
                      "engine.block_size");
  EXPECT_THROW(kv_check_config({.block_size = 16, .num_blocks = 4, .watermark_blocks = 4}),
               ConfigError);
  EXPECT_THROW(kv_check_config({.block_size = 16, .num_blocks = 4, .watermark_blocks = -1}),
               ConfigError);
  EXPECT_THROW(KvCache({.block_size = 16, .num_blocks = 0}), ConfigError);
  EXPECT_THROW(KvCache({.block_size = 0, .num_blocks = 8}), ConfigError);
}

}  // namespace
}  // namespace llmbatch
