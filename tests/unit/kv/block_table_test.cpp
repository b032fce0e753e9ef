#include "kv/block_table.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/error.h"

namespace llmbatch {
namespace {

std::vector<TokenId> iota(int n) {
  std::vector<TokenId> t(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) t[static_cast<size_t>(i)] = 100 + i;
  return t;
}

TEST(BlockTableTest, KvSlotFindsThePositionInItsBlock) {
  const std::vector<BlockId> blocks = {7, 2, 9};
  EXPECT_EQ(kv_slot(blocks, 4, 0), 28);   // block 7, offset 0
  EXPECT_EQ(kv_slot(blocks, 4, 3), 31);   // block 7, offset 3
  EXPECT_EQ(kv_slot(blocks, 4, 4), 8);    // block 2, offset 0
  EXPECT_EQ(kv_slot(blocks, 4, 11), 39);  // block 9, offset 3
  EXPECT_EQ(kv_slot(blocks, 1, 2), 9);
}

TEST(BlockTableTest, CountsBlocksNeededForOddTokenCounts) {
  BlockTable t(16);
  EXPECT_EQ(t.blocks_needed(0), 0);
  EXPECT_EQ(t.blocks_needed(1), 1);
  EXPECT_EQ(t.blocks_needed(16), 1);
  EXPECT_EQ(t.blocks_needed(17), 2);
  EXPECT_EQ(t.blocks_needed(97), 7);
  const std::vector<BlockId> blocks = {4, 9};
  t.append(iota(17), blocks);
  EXPECT_EQ(t.num_tokens(), 17);
  EXPECT_EQ(t.blocks_needed(15), 0);  // 15 free slots left in block 9
  EXPECT_EQ(t.blocks_needed(16), 1);
  EXPECT_TRUE(t.last_block_partial());
  EXPECT_EQ(t.tokens_in_block(0), 16);
  EXPECT_EQ(t.tokens_in_block(1), 1);
  EXPECT_EQ(t.tokens()[16], 116);
  EXPECT_EQ(std::vector<BlockId>(t.blocks().begin(), t.blocks().end()), blocks);
}

TEST(BlockTableTest, AppendNeedsExactlyTheMissingBlocks) {
  BlockTable t(4);
  const std::vector<BlockId> one = {0};
  const std::vector<BlockId> two = {0, 1};
  EXPECT_THROW(t.append(iota(5), one), InternalError);
  EXPECT_THROW(t.append(iota(3), two), InternalError);
  t.append(iota(4), one);
  EXPECT_FALSE(t.last_block_partial());
  EXPECT_THROW(t.append(iota(1), {}), InternalError);
}

TEST(BlockTableTest, BlockSizeOneHasOneBlockPerToken) {
  BlockTable t(1);
  const std::vector<BlockId> blocks = {7, 3, 5};
  t.append(iota(3), blocks);
  EXPECT_FALSE(t.last_block_partial());
  EXPECT_EQ(t.blocks_needed(2), 2);
  EXPECT_EQ(t.tokens_in_block(2), 1);
}

TEST(BlockTableTest, ReplaceLastBlockForCopyOnWrite) {
  BlockTable t(4);
  const std::vector<BlockId> blocks = {2, 6};
  t.append(iota(6), blocks);
  t.replace_last_block(9);
  EXPECT_EQ(t.blocks()[1], 9);
  EXPECT_EQ(t.blocks()[0], 2);
  BlockTable empty(4);
  EXPECT_THROW(empty.replace_last_block(1), InternalError);
}

TEST(BlockTableTest, ComputedTokensOnlyGrowWithinTheAppendedOnes) {
  BlockTable t(4);
  const std::vector<BlockId> blocks = {0, 1};
  t.append(iota(6), blocks);
  t.set_num_computed(4);
  EXPECT_EQ(t.num_computed(), 4);
  EXPECT_THROW(t.set_num_computed(3), InternalError);
  EXPECT_THROW(t.set_num_computed(7), InternalError);
  t.set_num_computed(6);
}

TEST(BlockTableTest, ChainCoversFullBlocksOnly) {
  BlockTable t(4);
  const std::vector<BlockId> blocks = {0, 1};
  t.append(iota(6), blocks);
  EXPECT_EQ(t.chain_tail(), BlockRef{});
  t.extend_chain(BlockRef{5, 2});
  EXPECT_EQ(t.num_chained_blocks(), 1);
  EXPECT_EQ(t.chain_tail(), (BlockRef{5, 2}));
  EXPECT_THROW(t.extend_chain(BlockRef{1, 1}), InternalError);  // block 1 is partial
}

}  // namespace
}  // namespace llmbatch
