#include "kv/prefix_cache.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/error.h"

namespace llmbatch {
namespace {

const std::vector<TokenId> kA = {1, 2, 3, 4};
const std::vector<TokenId> kB = {1, 2, 3, 5};
constexpr BlockRef kRoot{};

TEST(PrefixCacheTest, FindsABlockByParentAndTokens) {
  PrefixCache cache(8, 4);
  EXPECT_FALSE(cache.find(kRoot, kA).has_value());
  EXPECT_TRUE(cache.insert(kRoot, kA, 3));
  EXPECT_EQ(cache.find(kRoot, kA), 3);
  EXPECT_FALSE(cache.find(kRoot, kB).has_value());
  EXPECT_TRUE(cache.contains(3));
  EXPECT_FALSE(cache.contains(2));
  EXPECT_EQ(cache.size(), 1);
}

TEST(PrefixCacheTest, TheSameTokensAfterAnotherParentAreAnotherKey) {
  PrefixCache cache(8, 4);
  const BlockRef parent{3, 1};
  ASSERT_TRUE(cache.insert(parent, kA, 5));
  EXPECT_EQ(cache.find(parent, kA), 5);
  EXPECT_FALSE(cache.find(kRoot, kA).has_value());
  EXPECT_FALSE(cache.find(BlockRef{3, 2}, kA).has_value());  // parent block reused since
  EXPECT_FALSE(cache.find(BlockRef{4, 1}, kA).has_value());
  ASSERT_TRUE(cache.insert(kRoot, kA, 6));
  EXPECT_EQ(cache.find(kRoot, kA), 6);
  EXPECT_EQ(cache.find(parent, kA), 5);
}

TEST(PrefixCacheTest, ADuplicateKeyIsNotRegistered) {
  PrefixCache cache(8, 4);
  ASSERT_TRUE(cache.insert(kRoot, kA, 1));
  EXPECT_FALSE(cache.insert(kRoot, kA, 2));
  EXPECT_FALSE(cache.contains(2));
  EXPECT_EQ(cache.find(kRoot, kA), 1);
  EXPECT_THROW(cache.insert(kRoot, kB, 1), InternalError);  // 1 is registered already
}

TEST(PrefixCacheTest, EraseForgetsTheBlock) {
  PrefixCache cache(8, 4);
  ASSERT_TRUE(cache.insert(kRoot, kA, 1));
  cache.erase(1);
  EXPECT_FALSE(cache.find(kRoot, kA).has_value());
  EXPECT_FALSE(cache.contains(1));
  EXPECT_EQ(cache.size(), 0);
  EXPECT_THROW(cache.erase(1), InternalError);
  EXPECT_TRUE(cache.insert(kRoot, kB, 1));  // the block can hold new content
  EXPECT_EQ(cache.find(kRoot, kB), 1);
}

TEST(PrefixCacheTest, KeyHashDependsOnParentAndEveryToken) {
  const uint64_t base = prefix_key_hash(BlockRef{3, 7}, kA);
  EXPECT_EQ(prefix_key_hash(BlockRef{3, 7}, kA), base);
  EXPECT_NE(prefix_key_hash(BlockRef{4, 7}, kA), base);
  EXPECT_NE(prefix_key_hash(BlockRef{3, 8}, kA), base);
  EXPECT_NE(prefix_key_hash(kRoot, kA), base);
  for (size_t i = 0; i < kA.size(); ++i) {
    std::vector<TokenId> changed = kA;
    changed[i] ^= 1;
    EXPECT_NE(prefix_key_hash(BlockRef{3, 7}, changed), base) << i;
  }
}

// With every key in one bucket, a hit still needs the same parent and tokens.
TEST(PrefixCacheTest, HashCollisionsAreMissesNeverWrongHits) {
  PrefixCache cache(8, 4, [](BlockRef, std::span<const TokenId>) { return uint64_t{42}; });
  ASSERT_TRUE(cache.insert(kRoot, kA, 1));
  EXPECT_FALSE(cache.find(kRoot, kB).has_value());
  EXPECT_FALSE(cache.find(BlockRef{1, 1}, kA).has_value());
  EXPECT_FALSE(cache.insert(kRoot, kB, 2));  // the bucket is taken: B stays uncached
  EXPECT_FALSE(cache.contains(2));
  EXPECT_EQ(cache.find(kRoot, kA), 1);
}

TEST(PrefixCacheTest, OnlyFullBlocksAndValidIds) {
  PrefixCache cache(8, 4);
  const std::vector<TokenId> partial = {1, 2, 3};
  EXPECT_THROW(cache.find(kRoot, partial), InternalError);
  EXPECT_THROW(cache.insert(kRoot, partial, 0), InternalError);
  EXPECT_THROW(cache.contains(8), InternalError);
}

}  // namespace
}  // namespace llmbatch
