// Randomized property test of KvCache: 10,000 seeded random
// add/append/compute/fork/free/lookup operations, with a simulated backend
// that writes, for every computed token, a fingerprint of the token ids from
// position 0 up to it into that token's slot. After every operation the test
// checks, from its own model of the sequences:
//   - ref counts equal the number of tables holding each block, no table
//     holds a block twice, used + evictable + free = total (no leak, no
//     double free), and the stats match what the operations imply;
//   - every computed token of every live sequence still reads its own
//     fingerprint: nothing was overwritten, copy-on-write kept parents
//     intact and every prefix hit served KV of exactly the same prefix;
//   - not-yet-computed slots (the next writes) lie in unshared blocks;
//   - an allocation fails exactly when the blocks it needs are not there,
//     and a failure changes nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <ostream>
#include <random>
#include <set>
#include <vector>

#include "kv/kv_cache.h"

namespace llmbatch {
namespace {

struct PropertyConfig {
  int64_t block_size;
  int64_t num_blocks;
  bool prefix_caching;
  int64_t watermark;
  uint64_t seed;
};

// The test's fingerprint of a token following a prefix (not the cache's hash).
uint64_t fingerprint(uint64_t prefix, TokenId token) {
  uint64_t x = prefix * 0x100000001b3ull ^ (static_cast<uint64_t>(token) + 0x9e3779b97f4a7c15ull);
  x ^= x >> 29;
  x *= 0xbf58476d1ce4e5b9ull;
  return x ^ (x >> 32);
}

void PrintTo(const PropertyConfig& c, std::ostream* os) {
  *os << "block_size " << c.block_size << ", " << c.num_blocks << " blocks, seed " << c.seed;
}

class KvHarness {
 public:
  explicit KvHarness(const PropertyConfig& c)
      : bs_(c.block_size),
        kv_({.block_size = c.block_size,
             .num_blocks = c.num_blocks,
             .prefix_caching = c.prefix_caching,
             .watermark_blocks = c.watermark}),
        rng_(c.seed),
        slots_(static_cast<size_t>(c.num_blocks * c.block_size), 0) {
    for (auto& stem : stems_) {
      stem.resize(static_cast<size_t>(uniform(3 * bs_, 6 * bs_)));
      for (auto& t : stem) t = static_cast<TokenId>(uniform(0, 3));
    }
  }

  void run(int steps) {
    for (int i = 0; i < steps; ++i) {
      const int64_t op = uniform(0, 99);
      if (op < 25 && seqs_.size() < 40) {
        add();
      } else if (op < 55 && !seqs_.empty()) {
        append(pick());
      } else if (op < 78 && !seqs_.empty()) {
        compute(pick(), /*all=*/false);
      } else if (op < 88 && !seqs_.empty()) {
        fork(pick());
      } else if (op < 99 && !seqs_.empty()) {
        free(pick());
      } else {
        drain();
      }
      check();
      if (::testing::Test::HasFailure()) {
        ADD_FAILURE() << "first failure after step " << i;
        return;
      }
    }
  }

  KvStats stats() const { return kv_.stats(); }
  int64_t failed_allocations() const { return failed_; }
  int64_t forks() const { return forks_; }

 private:
  struct Seq {
    std::vector<TokenId> prompt;  // the whole prompt; tokens take it chunk by chunk
    std::vector<TokenId> tokens;
    std::vector<uint64_t> prints;  // fingerprint of tokens[0..p]
    int64_t computed = 0;
  };

  int64_t uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }

  SeqId pick() {
    auto it = seqs_.begin();
    std::advance(it, uniform(0, static_cast<int64_t>(seqs_.size()) - 1));
    return it->first;
  }

  static void push_tokens(Seq& s, std::span<const TokenId> tokens) {
    for (const TokenId t : tokens) {
      s.prints.push_back(fingerprint(s.prints.empty() ? 0 : s.prints.back(), t));
      s.tokens.push_back(t);
    }
  }

  int64_t blocks_for(int64_t tokens) const { return (tokens + bs_ - 1) / bs_; }

  // Evictions an allocation of `k` blocks must cause: free blocks go first.
  void expect_allocated(int64_t k, const KvStats& before) {
    expected_evictions_ += std::max<int64_t>(0, k - before.blocks_free);
  }

  void add() {
    Seq s;
    const auto& stem = stems_[static_cast<size_t>(uniform(0, 3))];
    s.prompt.assign(stem.begin(), stem.begin() + uniform(0, static_cast<int64_t>(stem.size())));
    for (int64_t n = uniform(s.prompt.empty() ? 1 : 0, 2 * bs_); n > 0; --n) {
      s.prompt.push_back(static_cast<TokenId>(uniform(0, 3)));
    }
    const PrefixHit hit = kv_.match_prefix(s.prompt);
    const auto len = static_cast<int64_t>(s.prompt.size());
    EXPECT_EQ(hit.num_queried, len);
    EXPECT_LE(hit.num_tokens, len - 1);
    EXPECT_EQ(hit.num_tokens, static_cast<int64_t>(hit.blocks.size()) * bs_);
    // The hit blocks hold exactly this prompt's prefix.
    Seq probe;
    push_tokens(probe, s.prompt);
    for (int64_t p = 0; p < hit.num_tokens; ++p) {
      const BlockId b = hit.blocks[static_cast<size_t>(p / bs_)].block;
      EXPECT_EQ(slots_[static_cast<size_t>(b * bs_ + p % bs_)],
                probe.prints[static_cast<size_t>(p)])
          << "prefix hit serves other KV at position " << p;
    }

    const int64_t n = uniform(hit.num_tokens, len);
    const KvStats before = kv_.stats();
    int64_t revived = 0;
    for (const BlockRef r : hit.blocks) revived += kv_.block_ref_count(r.block) == 0 ? 1 : 0;
    const int64_t fresh = blocks_for(n) - static_cast<int64_t>(hit.blocks.size());
    const bool fits = fresh + revived + watermark() <= kv_.num_available_blocks();
    EXPECT_EQ(kv_.can_add_sequence(hit, n), fits);
    const SeqId id = next_id_++;
    const std::span<const TokenId> tokens(s.prompt.data(), static_cast<size_t>(n));
    if (!kv_.add_sequence(id, tokens, hit)) {
      EXPECT_FALSE(fits);
      expect_unchanged(before);
      EXPECT_FALSE(kv_.has_sequence(id));
      ++failed_;
      return;
    }
    EXPECT_TRUE(fits);
    expect_allocated(fresh, before);
    queried_ += len;
    hits_ += hit.num_tokens;
    push_tokens(s, tokens);
    s.computed = hit.num_tokens;
    seqs_.emplace(id, std::move(s));
  }

  void append(SeqId id) {
    Seq& s = seqs_.at(id);
    std::vector<TokenId> tokens;
    const auto prompt_left =
        static_cast<int64_t>(s.prompt.size() - std::min(s.prompt.size(), s.tokens.size()));
    const int64_t k = uniform(1, 2 * bs_ + 3);
    for (int64_t i = 0; i < k; ++i) {
      tokens.push_back(i < prompt_left ? s.prompt[s.tokens.size() + static_cast<size_t>(i)]
                                       : static_cast<TokenId>(uniform(0, 3)));
    }
    const auto table = kv_.block_table(id);
    const auto nt = static_cast<int64_t>(s.tokens.size());
    const bool cow = nt % bs_ != 0 && kv_.block_ref_count(table.back()) > 1;
    const BlockId old_last = table.empty() ? kNoBlock : table.back();
    const int64_t needed = blocks_for(nt + k) - static_cast<int64_t>(table.size()) + (cow ? 1 : 0);
    const bool fits = needed <= kv_.num_available_blocks();
    EXPECT_EQ(kv_.can_append(id, k), fits);
    const KvStats before = kv_.stats();
    std::vector<BlockCopy> copies;
    if (!kv_.append(id, tokens, &copies)) {
      EXPECT_FALSE(fits);
      EXPECT_TRUE(copies.empty());
      expect_unchanged(before);
      ++failed_;
      return;
    }
    EXPECT_TRUE(fits);
    expect_allocated(needed, before);
    if (cow) {
      ASSERT_EQ(copies.size(), 1u);
      EXPECT_EQ(copies[0].src, old_last);
      EXPECT_EQ(copies[0].dst, kv_.block_table(id)[static_cast<size_t>(nt / bs_)]);
      // The backend's copy, before any write.
      std::copy_n(slots_.begin() + copies[0].src * bs_, bs_, slots_.begin() + copies[0].dst * bs_);
      ++copies_;
    } else {
      EXPECT_TRUE(copies.empty());
    }
    push_tokens(s, tokens);
  }

  // The backend writes K/V of tokens [computed, n) and reports them.
  void compute(SeqId id, bool all) {
    Seq& s = seqs_.at(id);
    const auto nt = static_cast<int64_t>(s.tokens.size());
    const int64_t n = all ? nt : uniform(s.computed, nt);
    const auto table = kv_.block_table(id);
    for (int64_t p = s.computed; p < n; ++p) {
      const BlockId b = table[static_cast<size_t>(p / bs_)];
      slots_[static_cast<size_t>(b * bs_ + p % bs_)] = s.prints[static_cast<size_t>(p)];
    }
    kv_.mark_computed(id, n);
    s.computed = n;
  }

  void fork(SeqId parent) {
    compute(parent, /*all=*/true);
    const SeqId child = next_id_++;
    kv_.fork(parent, child);
    seqs_.emplace(child, seqs_.at(parent));
    ++forks_;
  }

  void free(SeqId id) {
    kv_.free_sequence(id);
    seqs_.erase(id);
  }

  // Takes every block an admission may take, checks none is held by another
  // table, and gives them back: the free lists hold exactly what they claim.
  void drain() {
    const int64_t blocks = kv_.num_available_blocks() - watermark();
    if (blocks <= 0) return;
    std::vector<TokenId> tokens(static_cast<size_t>(blocks * bs_));
    for (auto& t : tokens) t = static_cast<TokenId>(1000000 + uniform(0, 1000));
    const KvStats before = kv_.stats();
    const SeqId id = next_id_++;
    ASSERT_TRUE(kv_.add_sequence(id, tokens, PrefixHit{}));
    expect_allocated(blocks, before);
    std::set<BlockId> others;
    for (const auto& [other, s] : seqs_) {
      for (const BlockId b : kv_.block_table(other)) others.insert(b);
    }
    const auto table = kv_.block_table(id);
    EXPECT_EQ(std::set<BlockId>(table.begin(), table.end()).size(), table.size());
    for (const BlockId b : table)
      EXPECT_FALSE(others.contains(b)) << "block " << b << " handed out twice";
    EXPECT_EQ(kv_.num_available_blocks(), watermark());
    kv_.free_sequence(id);
  }

  int64_t watermark() const { return kv_.config().watermark_blocks; }

  void expect_unchanged(const KvStats& before) {
    const KvStats after = kv_.stats();
    EXPECT_EQ(after.blocks_used, before.blocks_used);
    EXPECT_EQ(after.blocks_free, before.blocks_free);
    EXPECT_EQ(after.blocks_evictable, before.blocks_evictable);
    EXPECT_EQ(after.tokens_stored, before.tokens_stored);
    EXPECT_EQ(after.evictions, before.evictions);
  }

  void check() {
    std::map<BlockId, int> holders;
    std::map<BlockId, int64_t> fill;
    for (const auto& [id, s] : seqs_) {
      const auto table = kv_.block_table(id);
      const auto nt = static_cast<int64_t>(s.tokens.size());
      ASSERT_EQ(kv_.num_tokens(id), nt);
      ASSERT_EQ(kv_.num_computed_tokens(id), s.computed);
      ASSERT_EQ(static_cast<int64_t>(table.size()), blocks_for(nt));
      ASSERT_EQ(std::set<BlockId>(table.begin(), table.end()).size(), table.size());
      for (size_t i = 0; i < table.size(); ++i) {
        ++holders[table[i]];
        const int64_t in_block = std::min<int64_t>(bs_, nt - static_cast<int64_t>(i) * bs_);
        const auto [it, fresh] = fill.emplace(table[i], in_block);
        EXPECT_TRUE(fresh || it->second == in_block) << "holders disagree on block " << table[i];
      }
      for (int64_t p = 0; p < nt; ++p) {
        const BlockId b = table[static_cast<size_t>(p / bs_)];
        if (p < s.computed) {
          ASSERT_EQ(slots_[static_cast<size_t>(b * bs_ + p % bs_)],
                    s.prints[static_cast<size_t>(p)])
              << "sequence " << id << " lost its KV at position " << p;
        } else {
          ASSERT_EQ(kv_.block_ref_count(b), 1) << "pending write into shared block " << b;
        }
      }
    }
    int64_t stored = 0;
    for (const auto& [b, f] : fill) stored += f;
    for (BlockId b = 0; b < kv_.num_blocks(); ++b) {
      const auto it = holders.find(b);
      ASSERT_EQ(kv_.block_ref_count(b), it == holders.end() ? 0 : it->second) << "block " << b;
    }
    const KvStats s = kv_.stats();
    EXPECT_EQ(s.blocks_used, static_cast<int64_t>(holders.size()));
    EXPECT_EQ(s.blocks_used + s.blocks_evictable + s.blocks_free, s.num_blocks);
    EXPECT_EQ(kv_.num_available_blocks(), s.blocks_free + s.blocks_evictable);
    EXPECT_LE(s.blocks_evictable, s.blocks_cached);
    EXPECT_EQ(s.tokens_stored, stored);
    EXPECT_EQ(s.prefix_queried_tokens, queried_);
    EXPECT_EQ(s.prefix_hit_tokens, hits_);
    EXPECT_EQ(s.copies_on_write, copies_);
    EXPECT_EQ(s.evictions, expected_evictions_);
    EXPECT_EQ(kv_.num_sequences(), static_cast<int64_t>(seqs_.size()));
  }

  int64_t bs_;
  KvCache kv_;
  std::mt19937_64 rng_;
  std::vector<uint64_t> slots_;  // the simulated K/V: one fingerprint per slot
  std::vector<TokenId> stems_[4];
  std::map<SeqId, Seq> seqs_;
  SeqId next_id_ = 0;
  int64_t queried_ = 0, hits_ = 0, copies_ = 0, expected_evictions_ = 0, failed_ = 0, forks_ = 0;
};

class KvCachePropertyTest : public testing::TestWithParam<PropertyConfig> {};

TEST_P(KvCachePropertyTest, RandomOperationsKeepEveryInvariant) {
  KvHarness harness(GetParam());
  harness.run(10000);
  // The run must have reached the interesting paths, or it proves little.
  const KvStats s = harness.stats();
  EXPECT_GT(harness.failed_allocations(), 0);
  EXPECT_GT(harness.forks(), 0);
  if (GetParam().block_size > 1) {  // size 1 has no partial blocks to copy
    EXPECT_GT(s.copies_on_write, 0);
  }
  if (GetParam().prefix_caching) {
    EXPECT_GT(s.prefix_hit_tokens, 0);
    EXPECT_GT(s.evictions, 0);
  } else {
    EXPECT_EQ(s.prefix_hit_tokens, 0);
    EXPECT_EQ(s.blocks_cached, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Seeded, KvCachePropertyTest,
    testing::Values(PropertyConfig{1, 23, true, 0, 1}, PropertyConfig{2, 50, true, 0, 2},
                    PropertyConfig{4, 37, true, 2, 3}, PropertyConfig{8, 32, false, 0, 4},
                    PropertyConfig{16, 64, true, 0, 5}, PropertyConfig{32, 24, true, 1, 6}),
    [](const testing::TestParamInfo<PropertyConfig>& info) {
      return "bs" + std::to_string(info.param.block_size) + "_blocks" +
             std::to_string(info.param.num_blocks) + (info.param.prefix_caching ? "" : "_nocache") +
             "_wm" + std::to_string(info.param.watermark);
    });

}  // namespace
}  // namespace llmbatch
