#include "kv/kv_storage.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "kv/kv_cache.h"

namespace llmbatch {
namespace {

// A K (or V) element value that names its sequence, token, layer and lane,
// exactly representable in bf16 (integers below 256 for seq <= 3, pos < 8).
float value_of(int seq, int64_t pos, int64_t layer, int64_t lane, bool is_v) {
  return static_cast<float>(((seq * 8 + pos) * 2 + layer) * 3 + lane % 3) * (is_v ? -1.0f : 1.0f);
}

class KvStorageTest : public testing::TestWithParam<DType> {
 protected:
  KvLayout layout_{.num_layers = 2, .num_kv_heads = 3, .head_dim = 32, .dtype = GetParam()};

  // Writes (or, with `check`, compares) token `pos` of sequence `seq` in
  // `slot` across all layers, heads, K and V: the backend's slot write and read.
  void token_kv(KvStorage& st, int seq, int64_t pos, int64_t slot, bool check) {
    const size_t esize = dtype_size(layout_.dtype);
    const int64_t hd = layout_.head_dim;
    for (int64_t l = 0; l < layout_.num_layers; ++l) {
      for (const bool is_v : {false, true}) {
        auto* base = static_cast<uint8_t*>(is_v ? st.v_data(l) : st.k_data(l));
        for (int64_t h = 0; h < layout_.num_kv_heads; ++h) {
          for (int64_t d = 0; d < hd; ++d) {
            const int64_t bs = st.block_size(), heads = layout_.num_kv_heads;
            const int64_t word = kv_word_values(layout_.dtype);
            uint8_t* at = base + (is_v ? v_element(slot, bs, heads, hd, h, d, word)
                                       : k_element(slot, bs, heads, hd, h, d, word)) * esize;
            const float want = value_of(seq, pos, l, h * hd + d, is_v);
            if (!check) {
              dtype_from_f32(layout_.dtype, &want, at, 1);
              continue;
            }
            float got;
            dtype_to_f32(layout_.dtype, at, &got, 1);
            ASSERT_EQ(got, want) << "seq " << seq << " pos " << pos << " layer " << l << " head " << h << " dim " << d
                                 << (is_v ? " V" : " K");
          }
        }
      }
    }
  }
};

TEST_P(KvStorageTest, LayoutAndAlignment) {
  KvStorage st(layout_, 5, 4);
  const size_t esize = dtype_size(layout_.dtype);
  EXPECT_EQ(st.block_bytes(), 4 * 3 * 32 * esize);
  EXPECT_EQ(st.num_blocks(), 5);
  EXPECT_EQ(st.block_size(), 4);
  EXPECT_GE(st.total_bytes(), 2 * 2 * 5 * st.block_bytes());
  EXPECT_EQ(st.layout().dtype, layout_.dtype);
  for (int64_t l = 0; l < 2; ++l) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(st.k_data(l)) % 64, 0u);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(st.v_data(l)) % 64, 0u);
    EXPECT_EQ(st.v_data(l), static_cast<uint8_t*>(st.k_data(l)) + st.block_bytes());
    for (BlockId b = 0; b < 5; ++b) {
      // A block's K, then its V, then the next block's K.
      EXPECT_EQ(st.k_block(l, b), static_cast<uint8_t*>(st.k_data(l)) + 2 * b * st.block_bytes());
      EXPECT_EQ(st.v_block(l, b), static_cast<uint8_t*>(st.k_block(l, b)) + st.block_bytes());
      EXPECT_EQ(st.v_block(l, b), static_cast<uint8_t*>(st.v_data(l)) + 2 * b * st.block_bytes());
      EXPECT_EQ(reinterpret_cast<uintptr_t>(st.k_block(l, b)) % 64, 0u);
      const KvStorage& cst = st;
      EXPECT_EQ(cst.k_block(l, b), st.k_block(l, b));
      EXPECT_EQ(cst.v_block(l, b), st.v_block(l, b));
    }
  }
}

// Head-major blocks with K and V side by side, in 32-bit words: a head's K
// of a block is one run of its keys side by side word by word (a bf16 word:
// two consecutive dims of one key), its V one run of rows of words (a bf16
// word: one dim of two consecutive tokens, or of one token in a block of
// one); the runs of a block's heads follow each other, K lies in the first
// half of its own block and V in the second (v_data() = k_data() + one half
// block): every element of the array is addressed exactly once.
TEST(KvLayoutTest, HeadRunsOfABlockAreContiguousWordsAndVFollowsK) {
  EXPECT_EQ(kv_word_values(DType::BF16), 2);
  EXPECT_EQ(kv_word_values(DType::F32), 1);
  const int64_t heads = 3, hd = 8;
  for (const int64_t word : {1, 2}) {
    for (const int64_t bs : {1, 2, 4}) {
      SCOPED_TRACE("word " + std::to_string(word) + " block size " + std::to_string(bs));
      const int64_t half = bs * heads * hd, p = v_tokens_per_word(bs, word);
      EXPECT_EQ(p, std::min(bs, word));
      std::vector<int> seen(5 * 2 * half, 0);
      for (int64_t slot = 0; slot < 5 * bs; ++slot) {
        const int64_t i = slot % bs;
        for (int64_t h = 0; h < heads; ++h) {
          const int64_t run = kv_head_run(slot / bs, bs, heads, hd, h);
          EXPECT_EQ(run, (slot / bs * 2 * heads + h) * bs * hd) << "slot " << slot << " head " << h;
          for (int64_t d = 0; d < hd; ++d) {
            const int64_t k = k_element(slot, bs, heads, hd, h, d, word);
            const int64_t v = v_element(slot, bs, heads, hd, h, d, word);
            EXPECT_EQ(k - run, (d / word * bs + i) * word + d % word) << "slot " << slot << " dim " << d;
            EXPECT_EQ(v - run, (i / p * hd + d) * p + i % p) << "slot " << slot << " dim " << d;
            EXPECT_EQ(k - run, k_run_offset(i, d, bs, word));
            EXPECT_EQ(v - run, v_run_offset(i, d, hd, p));
            if (d % word == 1) {
              EXPECT_EQ(k, k_element(slot, bs, heads, hd, h, d - 1, word) + 1) << "a word: two dims";
            }
            if (i % p == 1) {
              EXPECT_EQ(v, v_element(slot - 1, bs, heads, hd, h, d, word) + 1) << "a word: two tokens";
            }
            EXPECT_LT(k % (2 * half), half) << "slot " << slot << " head " << h << ": K in the V half";
            ++seen[k];          // K
            ++seen[v + half];   // V, from v_data() = k_data() + one half block
          }
        }
      }
      EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), static_cast<int64_t>(seen.size()))
          << "elements overlap or leave gaps";
    }
  }
}

// kKvReadableTail zero bytes follow the last layer's last block, inside the
// storage: a vector load may read one value past a run's end.
TEST_P(KvStorageTest, ReadableTailFollowsTheLastArray) {
  KvStorage st(layout_, 3, 2);
  const auto* end = static_cast<const uint8_t*>(std::as_const(st).v_block(1, 2)) + st.block_bytes();
  const auto* first = static_cast<const uint8_t*>(std::as_const(st).k_data(0));
  EXPECT_GE(first + st.total_bytes(), end + kKvReadableTail);
  for (size_t i = 0; i < kKvReadableTail; ++i) EXPECT_EQ(end[i], 0) << "tail byte " << i;
}

TEST_P(KvStorageTest, ArraysAreDisjointAndStartZeroed) {
  KvStorage st(layout_, 3, 2);
  for (int64_t l = 0; l < 2; ++l) {
    for (BlockId b = 0; b < 3; ++b) {
      for (size_t i = 0; i < st.block_bytes(); ++i) {
        ASSERT_EQ(static_cast<const uint8_t*>(std::as_const(st).k_block(l, b))[i], 0);
      }
    }
  }
  // Fill every block of every array with its own byte; none overlaps another.
  uint8_t tag = 1;
  for (int64_t l = 0; l < 2; ++l) {
    for (BlockId b = 0; b < 3; ++b) {
      std::memset(st.k_block(l, b), tag++, st.block_bytes());
      std::memset(st.v_block(l, b), tag++, st.block_bytes());
    }
  }
  tag = 1;
  for (int64_t l = 0; l < 2; ++l) {
    for (BlockId b = 0; b < 3; ++b) {
      for (const void* p : {std::as_const(st).k_block(l, b), std::as_const(st).v_block(l, b)}) {
        const auto* bytes = static_cast<const uint8_t*>(p);
        EXPECT_EQ(bytes[0], tag);
        EXPECT_EQ(bytes[st.block_bytes() - 1], tag);
        ++tag;
      }
    }
  }
}

TEST_P(KvStorageTest, CopyBlockCopiesEveryLayerKAndVOnly) {
  KvStorage st(layout_, 4, 2);
  for (int64_t l = 0; l < 2; ++l) {
    std::memset(st.k_block(l, 1), 0x11 + static_cast<int>(l), st.block_bytes());
    std::memset(st.v_block(l, 1), 0x21 + static_cast<int>(l), st.block_bytes());
    std::memset(st.k_block(l, 3), 0x77, st.block_bytes());
  }
  st.copy_block(1, 2);
  for (int64_t l = 0; l < 2; ++l) {
    EXPECT_EQ(std::memcmp(st.k_block(l, 2), st.k_block(l, 1), st.block_bytes()), 0);
    EXPECT_EQ(std::memcmp(st.v_block(l, 2), st.v_block(l, 1), st.block_bytes()), 0);
    EXPECT_EQ(static_cast<uint8_t*>(st.k_block(l, 3))[0], 0x77);
    EXPECT_EQ(static_cast<uint8_t*>(st.k_block(l, 0))[0], 0);
  }
  EXPECT_THROW(st.copy_block(2, 2), InternalError);
  EXPECT_THROW(st.copy_block(0, 4), InternalError);
  EXPECT_THROW(st.k_block(2, 0), InternalError);
  EXPECT_THROW(st.v_data(-1), InternalError);
}

// Issue 4: "fork + CoW leaves the parent intact", with real K/V data.
TEST_P(KvStorageTest, ForkAndCopyOnWriteLeaveTheParentIntact) {
  constexpr int64_t kBs = 4;
  KvCache kv({.block_size = kBs, .num_blocks = 8});
  KvStorage st(layout_, 8, kBs);
  auto slot = [&](SeqId seq, int64_t pos) {
    return int64_t{kv.block_table(seq)[static_cast<size_t>(pos / kBs)]} * kBs + pos % kBs;
  };
  const std::vector<TokenId> prompt = {5, 6, 7, 8, 9, 10};  // one full block + 2 tokens
  ASSERT_TRUE(kv.add_sequence(1, prompt, kv.match_prefix(prompt)));
  for (int64_t p = 0; p < 6; ++p) token_kv(st, 1, p, slot(1, p), false);
  kv.mark_computed(1, 6);
  kv.fork(1, 2);
  kv.fork(1, 3);

  // Each sample appends its own token: the shared partial block is copied
  // for every writer but the last holder, who writes in place.
  for (const SeqId seq : {2, 1, 3}) {
    std::vector<BlockCopy> copies;
    ASSERT_TRUE(kv.append(seq, std::vector<TokenId>{static_cast<TokenId>(100 + seq)}, &copies));
    for (const BlockCopy& c : copies) st.copy_block(c.src, c.dst);
    token_kv(st, static_cast<int>(seq), 6, slot(seq, 6), false);
    kv.mark_computed(seq, 7);
  }
  EXPECT_EQ(kv.stats().copies_on_write, 2);
  // Prompt K/V read back as the parent wrote it in every sample; the new
  // token is each sample's own.
  for (const SeqId seq : {1, 2, 3}) {
    for (int64_t p = 0; p < 6; ++p) token_kv(st, 1, p, slot(seq, p), true);
    token_kv(st, static_cast<int>(seq), 6, slot(seq, 6), true);
  }
  EXPECT_EQ(kv.block_table(1)[0], kv.block_table(2)[0]);  // the full block stays shared
  EXPECT_NE(kv.block_table(1)[1], kv.block_table(2)[1]);
  EXPECT_NE(kv.block_table(2)[1], kv.block_table(3)[1]);
}

TEST_P(KvStorageTest, RejectsBadShapes) {
  EXPECT_THROW(KvStorage(layout_, 4, 3), ConfigError);
  KvLayout f16 = layout_;
  f16.dtype = DType::F16;
  EXPECT_THROW(KvStorage(f16, 4, 4), ConfigError);
  EXPECT_THROW(KvStorage(layout_, 0, 4), InternalError);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, KvStorageTest, testing::Values(DType::BF16, DType::F32),
                         [](const testing::TestParamInfo<DType>& info) {
                           return std::string(dtype_name(info.param));
                         });

}  // namespace
}  // namespace llmbatch
