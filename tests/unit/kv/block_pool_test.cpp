#include "kv/block_pool.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace llmbatch {
namespace {

BlockId take(BlockPool& pool, bool expect_evicted = false) {
  const auto a = pool.allocate();
  EXPECT_TRUE(a.has_value());
  EXPECT_EQ(a->evicted, expect_evicted);
  return a->block;
}

TEST(BlockPoolTest, FreshPoolHandsOutBlocksInOrderThenRunsOut) {
  BlockPool pool(4);
  for (BlockId b = 0; b < 4; ++b) {
    EXPECT_EQ(take(pool), b);
    EXPECT_EQ(pool.ref_count(b), 1);
    EXPECT_EQ(pool.generation(b), 1u);
  }
  EXPECT_FALSE(pool.allocate().has_value());
  EXPECT_EQ(pool.num_used(), 4);
  EXPECT_EQ(pool.num_available(), 0);
}

TEST(BlockPoolTest, LastFreedIsFirstReused) {
  BlockPool pool(4);
  for (int i = 0; i < 3; ++i) take(pool);
  EXPECT_TRUE(pool.release(2, false));
  EXPECT_TRUE(pool.release(0, false));
  EXPECT_EQ(take(pool), 0);
  EXPECT_EQ(pool.generation(0), 2u);
  EXPECT_EQ(take(pool), 2);
  EXPECT_EQ(take(pool), 3);
}

TEST(BlockPoolTest, SharedBlockIsFreedByItsLastHolder) {
  BlockPool pool(2);
  const BlockId b = take(pool);
  pool.retain(b);
  pool.retain(b);
  EXPECT_EQ(pool.ref_count(b), 3);
  EXPECT_FALSE(pool.release(b, false));
  EXPECT_FALSE(pool.release(b, false));
  EXPECT_EQ(pool.num_used(), 1);
  EXPECT_TRUE(pool.release(b, false));
  EXPECT_EQ(pool.num_used(), 0);
  EXPECT_THROW(pool.release(b, false), InternalError);  // double free
}

TEST(BlockPoolTest, EvictsCachedBlocksOnlyWhenNoFreeOneIsLeftInLruOrder) {
  BlockPool pool(4);
  for (int i = 0; i < 4; ++i) take(pool);
  pool.release(1, true);
  pool.release(3, true);
  pool.release(0, true);
  pool.release(2, false);
  EXPECT_EQ(pool.num_evictable(), 3);
  EXPECT_EQ(pool.num_available(), 4);
  EXPECT_TRUE(pool.is_evictable(1));
  EXPECT_FALSE(pool.is_evictable(2));
  EXPECT_EQ(take(pool), 2);        // the free one first
  EXPECT_EQ(take(pool, true), 1);  // then least recently released
  EXPECT_EQ(take(pool, true), 3);
  EXPECT_EQ(pool.generation(3), 2u);
  EXPECT_EQ(take(pool, true), 0);
  EXPECT_FALSE(pool.allocate().has_value());
}

TEST(BlockPoolTest, RetainRevivesAnEvictableBlock) {
  BlockPool pool(3);
  for (int i = 0; i < 3; ++i) take(pool);
  pool.release(0, true);
  pool.release(1, true);
  pool.release(2, true);
  pool.retain(1);  // a prefix hit: 1 leaves the LRU list, generation kept
  EXPECT_EQ(pool.ref_count(1), 1);
  EXPECT_EQ(pool.generation(1), 1u);
  EXPECT_FALSE(pool.is_evictable(1));
  EXPECT_EQ(pool.num_evictable(), 2);
  EXPECT_EQ(take(pool, true), 0);
  EXPECT_EQ(take(pool, true), 2);
  EXPECT_FALSE(pool.allocate().has_value());
  // Released again it goes to the most recent end.
  pool.release(2, true);
  pool.release(1, true);
  pool.release(0, true);
  EXPECT_EQ(take(pool, true), 2);
  EXPECT_EQ(take(pool, true), 1);
}

TEST(BlockPoolTest, RetainingAFreeBlockOrABadIdIsABug) {
  BlockPool pool(2);
  EXPECT_THROW(pool.retain(0), InternalError);
  EXPECT_THROW(pool.ref_count(2), InternalError);
  EXPECT_THROW(pool.release(-1, false), InternalError);
  EXPECT_THROW(BlockPool(0), InternalError);
}

}  // namespace
}  // namespace llmbatch
