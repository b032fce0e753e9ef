// KvCache on tiny configs with exact block ids, in the spirit of vLLM's
// tests/v1/core/test_prefix_caching.py. The expected ids follow from the
// documented allocation order: a fresh pool hands out 0, 1, 2, ...; freed
// blocks are reused last-freed-first; cached blocks are evicted least
// recently released first, a sequence's blocks released tail first.
#include "kv/kv_cache.h"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "core/error.h"

namespace llmbatch {
namespace {

using Ids = std::vector<BlockId>;

std::vector<TokenId> range(TokenId begin, int n) {
  std::vector<TokenId> t(static_cast<size_t>(n));
  std::iota(t.begin(), t.end(), begin);
  return t;
}

std::vector<TokenId> concat(std::vector<TokenId> a, const std::vector<TokenId>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Ids table_of(const KvCache& kv, SeqId seq) {
  const auto t = kv.block_table(seq);
  return Ids(t.begin(), t.end());
}

Ids hit_ids(const PrefixHit& hit) {
  Ids ids;
  for (const BlockRef r : hit.blocks) ids.push_back(r.block);
  return ids;
}

// Admits `prompt` whole, using its prefix hit.
bool add(KvCache& kv, SeqId seq, const std::vector<TokenId>& prompt) {
  return kv.add_sequence(seq, prompt, kv.match_prefix(prompt));
}

void add_computed(KvCache& kv, SeqId seq, const std::vector<TokenId>& prompt) {
  ASSERT_TRUE(add(kv, seq, prompt));
  kv.mark_computed(seq, static_cast<int64_t>(prompt.size()));
}

void expect_same_stats(const KvStats& a, const KvStats& b) {
  EXPECT_EQ(a.blocks_used, b.blocks_used);
  EXPECT_EQ(a.blocks_evictable, b.blocks_evictable);
  EXPECT_EQ(a.blocks_free, b.blocks_free);
  EXPECT_EQ(a.blocks_cached, b.blocks_cached);
  EXPECT_EQ(a.tokens_stored, b.tokens_stored);
  EXPECT_EQ(a.prefix_queried_tokens, b.prefix_queried_tokens);
  EXPECT_EQ(a.prefix_hit_tokens, b.prefix_hit_tokens);
  EXPECT_EQ(a.evictions, b.evictions);
  EXPECT_EQ(a.copies_on_write, b.copies_on_write);
}

TEST(KvCacheTest, PrefixCachingWithExactBlockIds) {
  KvCache kv({.block_size = 4, .num_blocks = 10});
  const auto a = range(0, 10);
  EXPECT_EQ(kv.match_prefix(a).num_tokens, 0);
  add_computed(kv, 1, a);
  EXPECT_EQ(table_of(kv, 1), (Ids{0, 1, 2}));
  EXPECT_EQ(kv.stats().blocks_cached, 2);  // the two full blocks

  const auto b = concat(range(0, 8), {50, 51, 52});
  const PrefixHit hit_b = kv.match_prefix(b);
  EXPECT_EQ(hit_ids(hit_b), (Ids{0, 1}));
  EXPECT_EQ(hit_b.num_tokens, 8);
  ASSERT_TRUE(kv.add_sequence(2, b, hit_b));
  EXPECT_EQ(table_of(kv, 2), (Ids{0, 1, 3}));
  EXPECT_EQ(kv.num_computed_tokens(2), 8);
  EXPECT_EQ(kv.num_tokens(2), 11);
  EXPECT_EQ(kv.block_ref_count(0), 2);
  EXPECT_EQ(kv.block_ref_count(1), 2);
  EXPECT_EQ(kv.block_ref_count(3), 1);

  // The last prompt token is never a hit: 8 tokens match one block only.
  EXPECT_EQ(hit_ids(kv.match_prefix(range(0, 8))), (Ids{0}));
  EXPECT_EQ(kv.match_prefix(range(0, 9)).num_tokens, 8);
  EXPECT_EQ(kv.match_prefix(range(1, 9)).num_tokens, 0);

  kv.free_sequence(1);  // 2 becomes free; 0 and 1 stay with sequence 2
  EXPECT_EQ(kv.stats().blocks_used, 3);
  kv.free_sequence(2);  // 3 free; 1 then 0 evictable
  KvStats s = kv.stats();
  EXPECT_EQ(s.blocks_used, 0);
  EXPECT_EQ(s.blocks_evictable, 2);
  EXPECT_EQ(s.blocks_free, 8);

  add_computed(kv, 3, a);  // revives 0 and 1, takes the last freed block
  EXPECT_EQ(table_of(kv, 3), (Ids{0, 1, 3}));
  EXPECT_EQ(kv.num_computed_tokens(3), 10);
  s = kv.stats();
  EXPECT_EQ(s.prefix_queried_tokens, 10 + 11 + 10);
  EXPECT_EQ(s.prefix_hit_tokens, 0 + 8 + 8);
  kv.free_sequence(3);

  // Free blocks go first (3, 2, then the untouched 4..8), cached ones after.
  ASSERT_TRUE(add(kv, 4, range(100, 28)));
  EXPECT_EQ(table_of(kv, 4), (Ids{3, 2, 4, 5, 6, 7, 8}));
  EXPECT_EQ(kv.stats().evictions, 0);
  ASSERT_TRUE(add(kv, 5, range(200, 12)));
  EXPECT_EQ(table_of(kv, 5), (Ids{9, 1, 0}));  // 1 was released before 0
  s = kv.stats();
  EXPECT_EQ(s.evictions, 2);
  EXPECT_EQ(s.blocks_cached, 0);
  EXPECT_EQ(kv.match_prefix(a).num_tokens, 0);
}

TEST(KvCacheTest, EvictionIsLeastRecentlyReleasedFirst) {
  KvCache kv({.block_size = 2, .num_blocks = 6});
  const auto a = range(0, 3), b = range(10, 3), c = range(20, 3);
  add_computed(kv, 1, a);
  add_computed(kv, 2, b);
  add_computed(kv, 3, c);
  EXPECT_EQ(table_of(kv, 2), (Ids{2, 3}));
  kv.free_sequence(2);
  kv.free_sequence(1);
  kv.free_sequence(3);  // evictable, oldest first: 2, 0, 4
  ASSERT_TRUE(add(kv, 4, range(30, 6)));
  EXPECT_EQ(table_of(kv, 4), (Ids{5, 1, 3}));
  ASSERT_TRUE(add(kv, 5, range(40, 2)));
  EXPECT_EQ(table_of(kv, 5), (Ids{2}));
  EXPECT_EQ(kv.match_prefix(b).num_tokens, 0);
  EXPECT_EQ(hit_ids(kv.match_prefix(a)), (Ids{0}));
  EXPECT_EQ(hit_ids(kv.match_prefix(c)), (Ids{4}));
  // A hit revives 0 before the sequence's new block evicts the next one: 4.
  ASSERT_TRUE(add(kv, 6, a));
  EXPECT_EQ(table_of(kv, 6), (Ids{0, 4}));
  EXPECT_EQ(kv.match_prefix(c).num_tokens, 0);
  EXPECT_EQ(kv.stats().evictions, 2);
}

TEST(KvCacheTest, ForkSharesBlocksAndCopiesTheLastPartialOneOnWrite) {
  KvCache kv({.block_size = 4, .num_blocks = 8});
  add_computed(kv, 1, range(0, 6));
  kv.fork(1, 2);
  EXPECT_EQ(table_of(kv, 2), (Ids{0, 1}));
  EXPECT_EQ(kv.num_tokens(2), 6);
  EXPECT_EQ(kv.num_computed_tokens(2), 6);
  EXPECT_EQ(kv.block_ref_count(0), 2);
  EXPECT_EQ(kv.block_ref_count(1), 2);
  EXPECT_EQ(kv.stats().tokens_stored, 6);  // shared blocks count once

  std::vector<BlockCopy> copies;
  ASSERT_TRUE(kv.append(2, std::vector<TokenId>{60}, &copies));
  EXPECT_EQ(copies, (std::vector<BlockCopy>{{1, 2}}));
  EXPECT_EQ(table_of(kv, 2), (Ids{0, 2}));
  EXPECT_EQ(table_of(kv, 1), (Ids{0, 1}));
  EXPECT_EQ(kv.block_ref_count(0), 2);
  EXPECT_EQ(kv.block_ref_count(1), 1);
  EXPECT_EQ(kv.block_ref_count(2), 1);
  KvStats s = kv.stats();
  EXPECT_EQ(s.copies_on_write, 1);
  EXPECT_EQ(s.blocks_used, 3);
  EXPECT_EQ(s.tokens_stored, 4 + 2 + 3);  // block 0, parent's 1, child's 2

  copies.clear();
  ASSERT_TRUE(kv.append(1, std::vector<TokenId>{70}, &copies));  // no longer shared
  EXPECT_TRUE(copies.empty());
  EXPECT_EQ(table_of(kv, 1), (Ids{0, 1}));
  ASSERT_TRUE(kv.append(2, range(80, 5), &copies));
  EXPECT_TRUE(copies.empty());
  EXPECT_EQ(table_of(kv, 2), (Ids{0, 2, 3}));

  // A full shared last block is never written: the next token gets a new block.
  add_computed(kv, 3, range(100, 8));
  kv.fork(3, 4);
  ASSERT_TRUE(kv.append(4, std::vector<TokenId>{1}, &copies));
  EXPECT_TRUE(copies.empty());
  EXPECT_EQ(table_of(kv, 4), (Ids{4, 5, 6}));
  EXPECT_EQ(table_of(kv, 3), (Ids{4, 5}));
}

TEST(KvCacheTest, ForkPreconditionsAreChecked) {
  KvCache kv({.block_size = 4, .num_blocks = 8});
  ASSERT_TRUE(add(kv, 1, range(0, 6)));
  EXPECT_THROW(kv.fork(1, 2), InternalError);  // tokens not computed yet
  kv.mark_computed(1, 6);
  EXPECT_THROW(kv.fork(1, 1), InternalError);
  EXPECT_THROW(kv.fork(9, 2), InternalError);
  kv.fork(1, 2);
  EXPECT_THROW(kv.fork(1, 2), InternalError);
}

TEST(KvCacheTest, ExhaustionIsAReturnValueAndChangesNothing) {
  KvCache kv({.block_size = 4, .num_blocks = 3});
  ASSERT_TRUE(add(kv, 1, range(0, 10)));
  std::vector<BlockCopy> copies;
  EXPECT_TRUE(kv.can_append(1, 2));
  ASSERT_TRUE(kv.append(1, range(10, 2), &copies));  // fills the last block
  const KvStats before = kv.stats();
  EXPECT_FALSE(kv.can_append(1, 1));
  EXPECT_FALSE(kv.append(1, range(12, 1), &copies));
  EXPECT_TRUE(copies.empty());
  EXPECT_EQ(kv.num_tokens(1), 12);
  EXPECT_EQ(table_of(kv, 1), (Ids{0, 1, 2}));
  const PrefixHit none = kv.match_prefix(range(50, 1));
  EXPECT_FALSE(kv.can_add_sequence(none, 1));
  EXPECT_FALSE(kv.add_sequence(2, range(50, 1), none));
  EXPECT_FALSE(kv.has_sequence(2));
  EXPECT_TRUE(kv.add_sequence(2, {}, PrefixHit{}));  // an empty sequence needs no block
  expect_same_stats(before, kv.stats());
}

TEST(KvCacheTest, ExhaustionBeforeACopyOnWriteChangesNothing) {
  KvCache kv({.block_size = 4, .num_blocks = 2});
  add_computed(kv, 1, range(0, 6));
  kv.fork(1, 2);
  const KvStats before = kv.stats();
  std::vector<BlockCopy> copies;
  EXPECT_FALSE(kv.can_append(2, 1));  // the copy needs a block
  EXPECT_FALSE(kv.append(2, range(6, 1), &copies));
  EXPECT_TRUE(copies.empty());
  EXPECT_EQ(table_of(kv, 2), (Ids{0, 1}));
  EXPECT_EQ(kv.block_ref_count(1), 2);
  expect_same_stats(before, kv.stats());
  kv.free_sequence(1);  // now the child owns block 1 alone and writes in place
  ASSERT_TRUE(kv.append(2, range(6, 2), &copies));
  EXPECT_TRUE(copies.empty());
  EXPECT_EQ(table_of(kv, 2), (Ids{0, 1}));
}

TEST(KvCacheTest, EvictableHitBlocksCountAgainstCapacity) {
  KvCache kv({.block_size = 4, .num_blocks = 3});
  const auto a = range(0, 5);
  add_computed(kv, 1, a);
  kv.free_sequence(1);  // 0 evictable; 1 and 2 free
  ASSERT_TRUE(add(kv, 2, range(100, 8)));
  EXPECT_EQ(table_of(kv, 2), (Ids{1, 2}));
  // Reviving 0 takes the only available block, leaving none for token 4.
  const PrefixHit hit = kv.match_prefix(a);
  ASSERT_EQ(hit_ids(hit), (Ids{0}));
  EXPECT_EQ(kv.num_available_blocks(), 1);
  EXPECT_FALSE(kv.can_add_sequence(hit, 5));
  EXPECT_FALSE(kv.add_sequence(3, a, hit));
  EXPECT_TRUE(kv.can_add_sequence(hit, 4));
  ASSERT_TRUE(kv.add_sequence(3, range(0, 4), hit));
  EXPECT_EQ(table_of(kv, 3), (Ids{0}));
  EXPECT_EQ(kv.num_available_blocks(), 0);
}

TEST(KvCacheTest, WatermarkHoldsBackNewSequencesOnly) {
  KvCache kv({.block_size = 4, .num_blocks = 4, .watermark_blocks = 1});
  const PrefixHit none;
  EXPECT_FALSE(kv.can_add_sequence(none, 16));
  EXPECT_TRUE(kv.can_add_sequence(none, 12));
  ASSERT_TRUE(kv.add_sequence(1, range(0, 12), none));
  EXPECT_FALSE(kv.add_sequence(2, range(50, 1), none));
  std::vector<BlockCopy> copies;
  EXPECT_TRUE(kv.append(1, range(12, 4), &copies));  // the running one may use it
  EXPECT_EQ(kv.num_available_blocks(), 0);
}

TEST(KvCacheTest, ReserveBlocksAddToTheWatermarkForNewSequences) {
  const KvCache kv({.block_size = 4, .num_blocks = 6, .watermark_blocks = 1});
  const PrefixHit none;
  EXPECT_TRUE(kv.can_add_sequence(none, 12, 2));   // 3 + 1 + 2 = 6
  EXPECT_FALSE(kv.can_add_sequence(none, 12, 3));  // 7 > 6
  EXPECT_TRUE(kv.can_add_sequence(none, 20, 0));
  EXPECT_FALSE(kv.can_add_sequence(none, 20, 1));
}

TEST(KvCacheTest, OnlyComputedFullBlocksBecomeHits) {
  KvCache kv({.block_size = 4, .num_blocks = 8});
  const auto prompt = range(0, 10);
  ASSERT_TRUE(add(kv, 1, prompt));
  EXPECT_EQ(kv.match_prefix(prompt).num_tokens, 0);  // appended, not computed
  kv.mark_computed(1, 5);
  EXPECT_EQ(kv.match_prefix(prompt).num_tokens, 4);
  kv.mark_computed(1, 10);
  EXPECT_EQ(kv.match_prefix(prompt).num_tokens, 8);
  const auto longer = concat(prompt, {10, 11, 99});
  EXPECT_EQ(kv.match_prefix(longer).num_tokens, 8);  // block 2 is partial
  // Generated tokens complete block 2, which then serves longer prompts.
  std::vector<BlockCopy> copies;
  ASSERT_TRUE(kv.append(1, std::vector<TokenId>{10, 11}, &copies));
  kv.mark_computed(1, 12);
  EXPECT_EQ(hit_ids(kv.match_prefix(longer)), (Ids{0, 1, 2}));
  EXPECT_THROW(kv.mark_computed(1, 11), InternalError);
  EXPECT_THROW(kv.mark_computed(1, 13), InternalError);
}

TEST(KvCacheTest, ConcurrentDuplicatesKeepOneCachedCopyAndChainThroughIt) {
  KvCache kv({.block_size = 4, .num_blocks = 8});
  const auto prompt = range(0, 13);
  ASSERT_TRUE(add(kv, 1, prompt));
  ASSERT_TRUE(add(kv, 2, prompt));  // nothing computed yet: no hit
  EXPECT_EQ(table_of(kv, 1), (Ids{0, 1, 2, 3}));
  EXPECT_EQ(table_of(kv, 2), (Ids{4, 5, 6, 7}));
  kv.mark_computed(1, 4);   // registers 0
  kv.mark_computed(2, 13);  // 4 duplicates 0; 5 and 6 chain on after 0
  EXPECT_EQ(kv.stats().blocks_cached, 3);
  kv.free_sequence(1);
  kv.free_sequence(2);  // 7 and 4 free, 6 and 5 evictable
  const KvStats s = kv.stats();
  EXPECT_EQ(s.blocks_evictable, 3);
  EXPECT_EQ(s.blocks_free, 5);
  EXPECT_EQ(hit_ids(kv.match_prefix(prompt)), (Ids{0, 5, 6}));
}

TEST(KvCacheTest, StaleOrForeignHitsAreBugs) {
  KvCache kv({.block_size = 4, .num_blocks = 3});
  const auto a = range(0, 5);
  add_computed(kv, 1, a);
  kv.free_sequence(1);  // 0 evictable, 1 and 2 free
  const PrefixHit hit = kv.match_prefix(a);
  ASSERT_EQ(hit_ids(hit), (Ids{0}));
  EXPECT_THROW(kv.add_sequence(2, range(1, 5), hit), InternalError);  // other tokens
  ASSERT_TRUE(add(kv, 3, range(100, 12)));                            // evicts 0
  EXPECT_THROW(kv.add_sequence(2, a, hit), InternalError);
  EXPECT_FALSE(kv.has_sequence(2));
  EXPECT_THROW(kv.add_sequence(3, {}, PrefixHit{}), InternalError);  // added twice
}

TEST(KvCacheTest, PrefixCachingOffNeverHitsNorKeepsBlocks) {
  KvCache kv({.block_size = 4, .num_blocks = 8, .prefix_caching = false});
  const auto prompt = range(0, 9);
  add_computed(kv, 1, prompt);
  const PrefixHit hit = kv.match_prefix(prompt);
  EXPECT_TRUE(hit.blocks.empty());
  EXPECT_EQ(hit.num_queried, 9);
  kv.free_sequence(1);
  const KvStats s = kv.stats();
  EXPECT_EQ(s.blocks_cached, 0);
  EXPECT_EQ(s.blocks_evictable, 0);
  EXPECT_EQ(s.blocks_free, 8);
  EXPECT_EQ(s.prefix_hit_rate(), 0.0);
}

TEST(KvCacheTest, StatsCountWasteAndHitRate) {
  KvCache kv({.block_size = 4, .num_blocks = 8});
  EXPECT_EQ(kv.stats().internal_waste(), 0.0);
  add_computed(kv, 1, range(0, 10));
  KvStats s = kv.stats();
  EXPECT_EQ(s.block_size, 4);
  EXPECT_EQ(s.num_blocks, 8);
  EXPECT_EQ(s.tokens_stored, 10);
  EXPECT_DOUBLE_EQ(s.internal_waste(), 2.0 / 12.0);
  ASSERT_TRUE(add(kv, 2, concat(range(0, 8), {7, 7, 7})));
  s = kv.stats();
  EXPECT_EQ(s.blocks_used, 4);
  EXPECT_EQ(s.tokens_stored, 13);
  EXPECT_DOUBLE_EQ(s.internal_waste(), 3.0 / 16.0);
  EXPECT_DOUBLE_EQ(s.prefix_hit_rate(), 8.0 / 21.0);
  kv.free_sequence(1);
  kv.free_sequence(2);
  s = kv.stats();
  EXPECT_EQ(s.tokens_stored, 0);
  EXPECT_EQ(s.blocks_used + s.blocks_evictable + s.blocks_free, s.num_blocks);
}

TEST(KvCacheTest, UnknownSequencesAreBugs) {
  KvCache kv({.block_size = 4, .num_blocks = 8});
  std::vector<BlockCopy> copies;
  EXPECT_THROW(kv.append(1, range(0, 1), &copies), InternalError);
  EXPECT_THROW(kv.can_append(1, 1), InternalError);
  EXPECT_THROW(kv.mark_computed(1, 0), InternalError);
  EXPECT_THROW(kv.free_sequence(1), InternalError);
  EXPECT_THROW(kv.block_table(1), InternalError);
  EXPECT_THROW(kv.num_tokens(1), InternalError);
  EXPECT_THROW(kv.num_computed_tokens(1), InternalError);
  EXPECT_FALSE(kv.has_sequence(1));
  EXPECT_EQ(kv.num_sequences(), 0);
}

// Block sizes 1..32 with odd prompt lengths: block counts, sharing and the
// last-token rule follow from the arithmetic alone.
class KvCacheBlockSizeTest : public testing::TestWithParam<std::tuple<int64_t, int>> {};

TEST_P(KvCacheBlockSizeTest, TablesHitsAndDecodeGrowth) {
  const auto [bs, len] = GetParam();
  KvCache kv({.block_size = bs, .num_blocks = 256});
  const auto prompt = range(1000, len);
  add_computed(kv, 1, prompt);
  const int64_t blocks = (len + bs - 1) / bs;
  EXPECT_EQ(static_cast<int64_t>(kv.block_table(1).size()), blocks);
  EXPECT_DOUBLE_EQ(kv.stats().internal_waste(),
                   1.0 - static_cast<double>(len) / static_cast<double>(blocks * bs));

  const PrefixHit hit = kv.match_prefix(prompt);
  EXPECT_EQ(hit.num_tokens, (len - 1) / bs * bs);
  ASSERT_TRUE(kv.add_sequence(2, prompt, hit));
  EXPECT_EQ(kv.num_computed_tokens(2), hit.num_tokens);
  for (size_t i = 0; i < hit.blocks.size(); ++i) {
    EXPECT_EQ(kv.block_table(2)[i], kv.block_table(1)[i]);
  }
  EXPECT_NE(kv.block_table(2).back(), kv.block_table(1).back());
  EXPECT_EQ(kv.num_sequences(), 2);

  std::vector<BlockCopy> copies;
  for (int step = 1; step <= 40; ++step) {
    ASSERT_TRUE(kv.append(1, std::vector<TokenId>{step}, &copies));
    EXPECT_EQ(static_cast<int64_t>(kv.block_table(1).size()), (len + step + bs - 1) / bs);
  }
  EXPECT_TRUE(copies.empty());
}

INSTANTIATE_TEST_SUITE_P(OddLengths, KvCacheBlockSizeTest,
                         testing::Combine(testing::Values<int64_t>(1, 8, 16, 32),
                                          testing::Values(17, 97)));

}  // namespace
}  // namespace llmbatch
