// The vector attention kernel in three forms: AVX2 + FMA (`Narrow`), its
// AVX-512 form (`Wide`: the same code with 16-lane score and value blocks,
// the same bits), and AVX-512 BF16 dot products (`Dot`: bits of its own).
// A work item's rows, (query token, query head) of its pieces, visit key
// tiles (kAttentionTile positions aligned to absolute positions). Per tile,
// the item's pieces whose block tables hold the same blocks for it form a
// cluster (one piece unless sequences share blocks: forks, n > 1 samples,
// prefix-cache hits, or a prefill chunk's own tokens), and per cluster and
// KV head:
//   scores  s[r][j] = q_r · k_j, one chain over the dims per score with 8
//           (Wide, Dot: 16) keys to a vector, up to 6 rows × 16-64 keys at a
//           time, straight from the cache (a tile gathered first where a
//           block size is not a multiple of 8, or 16): a cluster's rows
//           share the loads like a GEMM's;
//   softmax per row: tile max, p_j = 2^(s_j - max) with simd_exp.h's exp2
//           (q is pre-scaled by log2(e) / sqrt(head_dim)), running sum;
//   values  acc[r] += p[r][j] * v_j, for up to 6 rows × 16-64 dims at a time.
// A row's numbers never meet another row's, so clustering and blocking rows
// and keys change speed, not bits. Every reduction is a fixed function of
// head_dim and the position: a score is a chain over d = 0 .. hd - 1 (Dot:
// over the pairs of dims), a value dim a chain over the keys in order (Dot:
// over the pairs of keys), and the softmax sums a tile lane-wise by its
// position in the tile.
//
// K and V are read straight from the cache's 32-bit words (kv_storage.h):
// Narrow and Wide split a bf16 K word's two dims into two f32 vectors by a
// shift and a mask, and widen a token's V from a load at its own value
// (value_dims: the low halves; f32 words are plain values), and run FMA
// chains; Dot hands the words to VDPBF16PS as they are, with q and the
// softmax weights rounded to bf16, a 16-lane running sum per row and a
// lazily moved reference max (softmax_rows_dot), and a sequence's few rows
// over few keys take all their KV heads in one loop (attend_small_cluster).
//
// The forms' blocks are in attention_fma_blocks.h and attention_dot_blocks.h,
// what they share in attention_vector_common.h; this file plans the tiles
// and runs an item's clusters through them.
#include "backend/cpu/simd.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <span>
#include <type_traits>
#include <vector>

// The kernel's parts (anonymous-namespace code for this file alone).
#define LLMBATCH_ATTENTION_VECTOR_KERNEL
#include "backend/cpu/attention_dot_blocks.h"
#include "backend/cpu/attention_fma_blocks.h"
#include "backend/cpu/attention_kernels.h"
#include "backend/cpu/attention_vector_common.h"
#include "backend/cpu/bf16_pairs.h"
#include "backend/cpu/cpu_features.h"
#include "core/error.h"
#include "kv/block_table.h"
#include "kv/kv_storage.h"

namespace llmbatch {
namespace {

// score_rows for the wide and dot blocks (Q: f32 or bf16 words): 64, then
// 32, then 16 keys at a time.
template <int R, typename Q, typename T>
LLMBATCH_AVX512 void score_keys_wide(const Q* const* q, const T* const* k, int64_t stride, int64_t hd, float* s,
                                     int64_t j, int64_t end, NextTileLines& prefetch) {
  for (; j + 64 <= end; j += 64) score_block_wide<R, 4>(q, k + j / 8, stride, hd, s, j, prefetch.take());
  for (; j + 32 <= end; j += 32) score_block_wide<R, 2>(q, k + j / 8, stride, hd, s, j, prefetch.take());
  for (; j < end; j += 16) score_block_wide<R, 1>(q, k + j / 8, stride, hd, s, j, prefetch.take());
}

template <typename Q, typename T>
LLMBATCH_AVX512 void score_rows_wide(int64_t n, const Q* const* q, const T* const* k, int64_t stride, int64_t hd,
                                     float* s, int64_t j, int64_t end, NextTileLines& prefetch) {
  with_rows(n, [&]<int R>() LLMBATCH_AVX512 { score_keys_wide<R>(q, k, stride, hd, s, j, end, prefetch); });
}

// value_block_wide, f32 or dot (P: f32 or bf16 words), with the widest W
// (≤ 4: 6 rows × 4 = 24 accumulators) that divides head_dim.
template <int R, typename P, typename T>
LLMBATCH_AVX512 void value_rows_wide(const P* const* p, const T* const* values, int64_t shift, int64_t j_begin,
                                     int64_t j_end, int64_t hd, float* const* acc) {
  if (hd % 64 == 0) {
    value_block_wide<R, 4>(p, values, shift, j_begin, j_end, hd, acc);
  } else if (hd % 32 == 0) {
    value_block_wide<R, 2>(p, values, shift, j_begin, j_end, hd, acc);
  } else {
    value_block_wide<R, 1>(p, values, shift, j_begin, j_end, hd, acc);
  }
}

template <typename P, typename T>
LLMBATCH_AVX512 void values_of_rows_wide(int64_t n, const P* const* p, const T* const* values, int64_t shift,
                                         int64_t j_begin, int64_t j_end, int64_t hd, float* const* acc) {
  with_rows(n, [&]<int R>() LLMBATCH_AVX512 { value_rows_wide<R>(p, values, shift, j_begin, j_end, hd, acc); });
}

// Per-thread buffers, grown to the largest item seen; the float rows start
// 64-byte aligned.
struct Scratch {
  // q (f32 forms), acc: [heads][rows][hd]; scores: [kScoreRows][kTile]
  std::vector<float> q, acc, scores;
  // The dot form's q and p in bf16 words: [heads][rows][hd / 2], [kScoreRows][kTile / 2]
  std::vector<uint32_t> q_words, p_words;
  std::vector<float> max, sum;        // [heads][rows]; sum: 16 lanes a row in the dot form
  std::vector<int64_t> position;      // [rows]
  std::vector<int64_t> q_row;         // [rows]: where the item's first head reads the row's q, writes its output
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

float* aligned_floats(std::vector<float>& buffer, int64_t n) {
  buffer.resize(n + 16);
  const auto misalignment = reinterpret_cast<uintptr_t>(buffer.data()) % 64;
  return buffer.data() + (64 - misalignment) % 64 / sizeof(float);
}

// Pieces of an item that read the same blocks of a tile, and which of
// their rows see it.
struct Cluster {
  int64_t row_begin = 0, row_end = 0;  // into TilePlan::rows and ::visible
  int64_t keys = 0;                    // keys scored: a multiple of kKeys, at least every row's visible count
  int64_t key_begin = 0;               // into TilePlan::keys and ::values: `keys` entries
};

// Appends the blocks of a tile's cluster (or piece) that the one before did
// not hold at the same place: the blocks to prefetch, each once, where
// forks share all but their last blocks.
void append_new_blocks(std::span<const BlockId> previous, std::span<const BlockId> blocks, std::vector<BlockId>* out) {
  for (size_t b = 0; b < blocks.size(); ++b) {
    if (b >= previous.size() || previous[b] != blocks[b]) out->push_back(blocks[b]);
  }
}

// The blocks of a piece's table that hold the positions of the tile from
// `tile_begin` its tokens see; empty where its last token comes before the
// tile.
std::span<const BlockId> piece_tile_blocks(const AttentionPiece& piece, int64_t tile_begin, int64_t block_size) {
  const AttentionSequence& seq = *piece.sequence;
  const int64_t seen = std::min(tile_begin + kTile, seq.start_position + piece.token_end);
  if (seen <= tile_begin) return {};
  const int64_t first = tile_begin / block_size;
  return seq.block_table.subspan(first, (seen + block_size - 1) / block_size - first);
}

// One tile of an item, for its first KV head (another head's K and V runs
// lie head_stride elements further on).
template <typename T>
struct TilePlan {
  std::vector<Cluster> clusters;
  std::vector<int64_t> rows, visible;  // the rows that see the tile, and how many of its keys each sees
  std::vector<const T*> keys;          // per key: its first word (pair 0), pair i at + i * 2 * block_size
  std::vector<const T*> values;        // per key: its value's dim 0 (its dims v_tokens_per_word() apart)
  std::vector<BlockId> blocks;         // to ask memory for during the tile before: those read, and (attend)
                                       // a share of the item's last tile's
  int64_t score_blocks = 0;            // score_block calls per KV head

  void clear() {
    clusters.clear();
    rows.clear();
    visible.clear();
    keys.clear();
    values.clear();
    blocks.clear();
    score_blocks = 0;
  }
};

// Plans tile `tile_begin` of the item, whose rows (per KV head: piece,
// token, query head of the group, in that order) are at `position`: its
// clusters (consecutive pieces whose tables agree on the tile's blocks, up
// to the shorter's length), the rows that see it, and where each key's K and
// V lie.
template <typename T>
void plan_tile(const AttentionShape& s, const AttentionItem& item, std::span<const int64_t> position,
               const T* k_cache, const T* v_cache, int64_t tile_begin, Form form, TilePlan<T>* plan) {
  plan->clear();
  const int64_t bs = s.block_size, first_block = tile_begin / bs, group = s.num_heads / s.num_kv_heads;
  constexpr int64_t word = word_values<T>();
  std::span<const BlockId> cluster_blocks, previous_blocks;
  auto close = [&] {
    if (plan->clusters.empty()) return;
    Cluster& c = plan->clusters.back();
    const int64_t seen = *std::max_element(plan->visible.begin() + c.row_begin, plan->visible.end());
    c.keys = (seen + kKeys - 1) / kKeys * kKeys;
    c.key_begin = std::ssize(plan->keys);
    // One table lookup per block; keys past the cluster's blocks are scored,
    // never used: they repeat its last 8 keys (its last key where blocks do
    // not hold whole vectors: those are gathered). Padding only happens
    // for a block size below 16, which the wide and dot forms always gather.
    for (int64_t j = 0; j < c.keys;) {
      const int64_t pos = tile_begin + j, block = pos / bs - first_block;
      if (block == std::ssize(cluster_blocks)) {
        const int64_t back = bs % 8 == 0 ? 8 : 1;
        for (; j < c.keys; ++j) {
          plan->keys.push_back(plan->keys[std::ssize(plan->keys) - back]);
          plan->values.push_back(plan->values[std::ssize(plan->values) - back]);
        }
        break;
      }
      const int64_t run = kv_head_run(cluster_blocks[block], bs, s.num_kv_heads, s.head_dim, item.kv_head_begin);
      for (int64_t i = pos % bs; i < bs && j < c.keys; ++i, ++j) {
        // Offsets within the run, with the word size known here at compile
        // time (the offsets divide by it; a division per key was 5% of a
        // decode step's attention). A block of one token, whose V has one
        // token to a word, has only i = 0: offset 0 either way.
        plan->keys.push_back(k_cache + run + k_run_offset(i, 0, bs, word));
        plan->values.push_back(v_cache + run + v_run_offset(i, 0, s.head_dim, word));
      }
    }
    append_new_blocks(previous_blocks, cluster_blocks, &plan->blocks);
    previous_blocks = cluster_blocks;
    for (int64_t i = c.row_begin; i < c.row_end; i += kRows) {
      plan->score_blocks += score_blocks_of(std::min<int64_t>(kRows, c.row_end - i), c.keys, form);
    }
  };
  int64_t row = 0;
  for (const AttentionPiece& piece : item.pieces) {
    const AttentionSequence& seq = *piece.sequence;
    const int64_t first = seq.start_position + piece.token_begin;
    const int64_t piece_rows = (piece.token_end - piece.token_begin) * group;
    const std::span<const BlockId> blocks = piece_tile_blocks(piece, tile_begin, bs);
    if (blocks.empty()) {
      row += piece_rows;
      continue;
    }
    const size_t common = std::min(blocks.size(), cluster_blocks.size());
    if (plan->clusters.empty() || !std::equal(blocks.begin(), blocks.begin() + common, cluster_blocks.begin())) {
      close();
      plan->clusters.push_back({.row_begin = std::ssize(plan->rows)});
      cluster_blocks = blocks;
    } else if (blocks.size() > cluster_blocks.size()) {
      cluster_blocks = blocks;
    }
    // Tokens before the tile's first position see none of it.
    for (int64_t r = row + std::max<int64_t>(0, tile_begin - first) * group; r < row + piece_rows; ++r) {
      plan->rows.push_back(r);
      plan->visible.push_back(std::min(kTile, position[r] + 1 - tile_begin));
    }
    plan->clusters.back().row_end = std::ssize(plan->rows);
    row += piece_rows;
  }
  close();
}

// One cluster's keys and values of one KV head gathered into a tile of the
// cache's layout with kTile keys to a block, for a block size that is not
// a multiple of keys_per_load (8, or 16 in the wide form), where a load's
// keys of a dim do not lie side by side in the cache (nor, for a block of
// one bf16 token, a word's two tokens). keys: [hd / W][kTile][W];
// values: [kTile / W][hd][W], W = word_values<T>().
template <typename T>
struct GatheredTile {
  std::vector<T> keys, values;
  std::vector<const T*> value_of;  // per key: its value's dim 0 in `values`

  void resize(int64_t hd) {
    constexpr int64_t w = word_values<T>();
    keys.resize(hd * kTile);
    values.resize(hd * kTile + 32);  // value_dims reads one value past the last
    value_of.resize(kTile);
    for (int64_t j = 0; j < kTile; ++j) value_of[j] = values.data() + v_run_offset(j, 0, hd, w);
  }
};

template <typename T>
void gather_tile(const T* const* keys, const T* const* values, int64_t n, int64_t shift, int64_t bs, int64_t hd,
                 GatheredTile<T>* dst) {
  constexpr int64_t w = word_values<T>();
  const int64_t v_step = v_tokens_per_word(bs, w);
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t d = 0; d < hd; ++d) {
      dst->keys[k_run_offset(j, d, kTile, w)] = keys[j][shift + k_run_offset(0, d, bs, w)];
      dst->values[v_run_offset(j, d, hd, w)] = values[j][shift + v_run_offset(0, d, hd, v_step)];
    }
  }
}

// score_block for n <= kRows rows and the keys [j, end) of groups k (of 8
// keys) from j / 8 on: up to 3 rows 32 keys at a time, for
// 12 FMA chains.
template <typename T>
LLMBATCH_AVX2 void score_rows(int64_t n, const float* const* q, const T* const* k, int64_t stride, int64_t hd,
                              float* s, int64_t j, int64_t end, NextTileLines& prefetch) {
  for (; n <= 3 && j + 32 <= end; j += 32) {
    const T* const* kg = k + j / 8;
    switch (n) {
      case 1: score_block<1, 4>(q, kg, stride, hd, s, j, prefetch.take()); break;
      case 2: score_block<2, 4>(q, kg, stride, hd, s, j, prefetch.take()); break;
      default: score_block<3, 4>(q, kg, stride, hd, s, j, prefetch.take()); break;
    }
  }
  for (; j < end; j += 16) {
    with_rows(n, [&]<int R>() LLMBATCH_AVX2 { score_block<R, 2>(q, k + j / 8, stride, hd, s, j, prefetch.take()); });
  }
}

// value_rows for n <= kRows rows.
template <typename T>
LLMBATCH_AVX2 void values_of_rows(int64_t n, const float* const* p, const T* const* values, int64_t shift,
                                  int64_t j_begin, int64_t j_end, int64_t hd, float* const* acc) {
  with_rows(n, [&]<int R>() LLMBATCH_AVX2 { value_rows<R>(p, values, shift, j_begin, j_end, hd, acc); });
}

// The blocks of an item's tile from `tile_begin` (the positions of it its
// pieces see), each once where consecutive pieces share them.
void tile_blocks(const AttentionItem& item, int64_t tile_begin, int64_t block_size, std::vector<BlockId>* out) {
  out->clear();
  std::span<const BlockId> previous;
  for (const AttentionPiece& piece : item.pieces) {
    const std::span<const BlockId> blocks = piece_tile_blocks(piece, tile_begin, block_size);
    if (blocks.empty()) continue;
    append_new_blocks(previous, blocks, out);
    previous = blocks;
  }
}

// An item's rows for each of its KV heads: q (scaled; the dot form's in
// bf16 words only), the output accumulator and the online-softmax state.
struct ItemRows {
  int64_t rows = 0, hd = 0;  // rows per KV head: (piece, token, query head of the group), in that order
  float *q = nullptr, *acc = nullptr, *max = nullptr;
  float* sum = nullptr;         // per row: 1 float, or 16 lanes in the dot form
  int64_t sum_lanes = 1;
  uint32_t* q_words = nullptr;  // the dot form's q

  int64_t at(int64_t h, int64_t r) const { return h * rows + r; }
  float* sum_of(int64_t h, int64_t r) const { return sum + at(h, r) * sum_lanes; }
  const float* q_of(int64_t h, int64_t r) const { return q + at(h, r) * hd; }
  const uint32_t* q_words_of(int64_t h, int64_t r) const { return q_words + at(h, r) * hd / 2; }
  float* acc_of(int64_t h, int64_t r) const { return acc + at(h, r) * hd; }
};

// The score and value blocks of up to kRows rows of a cluster: rows
// [i, i + n) of `plan` for KV head h.
struct RowBlock {
  const float* q[kRows];
  const uint32_t* q_words[kRows];
  const float* p[kRows];  // the scores, then (f32 forms) the weights
  const uint32_t* p_words[kRows];
  float* acc[kRows];
};

// Values for rows [i, i + n) of a block whose weights are in `p` (f32 or
// bf16 words): the rows share the keys all of them see; on the diagonal
// tile the later tokens' extra keys follow one row at a time, in order.
// The dot form takes keys in pairs, so the shared keys end at a pair's
// start: a row's chain over its pairs never depends on the block's other rows.
template <typename P, typename T>
LLMBATCH_AVX2 void block_values(Form form, const TilePlan<T>& plan, int64_t i, int64_t n, const P* const* p,
                                const T* const* values, int64_t shift, int64_t hd, float* const* acc) {
  const int64_t seen_by_all = *std::min_element(plan.visible.begin() + i, plan.visible.begin() + i + n);
  const int64_t shared = form == Form::Dot ? seen_by_all & ~int64_t{1} : seen_by_all;
  const auto run_values = [&] {
    if constexpr (std::is_same_v<P, float>) {
      return form == Form::Narrow ? values_of_rows<T> : values_of_rows_wide<float, T>;
    } else {
      return values_of_rows_wide<P, T>;
    }
  }();
  run_values(n, p, values, shift, 0, shared, hd, acc);
  for (int64_t k = 0; k < n; ++k) {
    if (plan.visible[i + k] > shared) run_values(1, p + k, values, shift, shared, plan.visible[i + k], hd, acc + k);
  }
}

// Whether attend_small_cluster takes cluster c: the dot form from the cache
// (16 keys side by side), up to kSmallRows rows that all see the same keys,
// up to kSmallHeads KV heads, up to 16 * kSmallGroups keys (a whole tile of
// a sequence's own blocks streams from memory and gains nothing: measured),
// hd % 32 == 0.
template <typename T>
bool takes_small_cluster(Form form, const AttentionShape& s, const TilePlan<T>& plan, const Cluster& c, int64_t heads) {
  const int64_t n = c.row_end - c.row_begin;
  if (form != Form::Dot || s.block_size % 16 != 0 || s.head_dim % 32 != 0 || n > kSmallRows || heads > kSmallHeads ||
      c.keys > 16 * kSmallGroups) {
    return false;
  }
  const auto visible = plan.visible.begin() + c.row_begin;
  return std::all_of(visible, visible + n, [&](int64_t v) { return v == *visible; });
}

// A small cluster (takes_small_cluster()): its KV heads' scores, softmax and
// values each in one pass over all of them.
template <typename T>
LLMBATCH_AVX2 void attend_small_cluster(const AttentionShape& s, const TilePlan<T>& plan, const Cluster& c,
                                        int64_t heads, const ItemRows& rows, NextTileLines& prefetch, float* scores,
                                        uint32_t* p_words) {
  if constexpr (std::is_same_v<T, uint16_t>) {
    constexpr int kMost = kSmallRows * kSmallHeads;
    const int64_t n = c.row_end - c.row_begin, groups = c.keys / 16, hd = s.head_dim;
    const uint32_t* q[kMost];
    const uint32_t* p[kMost];
    const uint16_t* k[kSmallHeads * kSmallGroups];
    float* s_out[kMost];
    float *acc[kMost], *max[kMost], *sum16[kMost];
    int64_t visible[kMost], shift[kSmallHeads];
    NextTileLines::Share shares[kSmallHeads];
    for (int64_t h = 0; h < heads; ++h) {
      shift[h] = h * s.block_size * hd;
      shares[h] = prefetch.take();
      for (int64_t g = 0; g < groups; ++g) k[h * groups + g] = plan.keys[c.key_begin + 16 * g] + shift[h];
      for (int64_t r = 0; r < n; ++r) {
        const int64_t i = h * n + r, row = plan.rows[c.row_begin + r];
        q[i] = rows.q_words_of(h, row);
        s_out[i] = scores + i * kTile;
        p[i] = p_words + i * kTile / 2;
        acc[i] = rows.acc_of(h, row);
        max[i] = &rows.max[rows.at(h, row)];
        sum16[i] = rows.sum_of(h, row);
        visible[i] = plan.visible[c.row_begin + r];
      }
    }
    const auto score = n == 1 ? score_small_dot<1> : n == 2 ? score_small_dot<2> : score_small_dot<3>;
    score(heads, groups, q, k, 2 * s.block_size, hd, s_out, shares);
    softmax_rows_dot(heads * n, s_out, visible, max, sum16, acc, hd, p_words);
    const auto values = n == 1 ? values_small_dot<1> : n == 2 ? values_small_dot<2> : values_small_dot<3>;
    values(heads, p, plan.values.data() + c.key_begin, shift, visible[0], hd, acc);
  }
}

// One cluster of a tile, every KV head of the item: a block of up to kRows
// rows at a time computes its scores, softmax and values, so that its
// scores stay in L1 beside the tile's K and V.
template <typename T>
LLMBATCH_AVX2 void attend_cluster(const AttentionShape& s, const TilePlan<T>& plan, const Cluster& c, int64_t heads,
                                  const ItemRows& rows, NextTileLines& prefetch, float* scores, uint32_t* p_words,
                                  GatheredTile<T>& gathered, Form form) {
  const int64_t hd = s.head_dim, bs = s.block_size;
  const int64_t head_stride = bs * hd;  // from one KV head's K (or V) run of a block to the next head's
  const T* const* keys = plan.keys.data() + c.key_begin;
  const bool gather = bs % keys_per_load(form) != 0;
  const T* const* values = gather ? gathered.value_of.data() : plan.values.data() + c.key_begin;
  if (takes_small_cluster(form, s, plan, c, heads)) {
    return attend_small_cluster(s, plan, c, heads, rows, prefetch, scores, p_words);
  }
  for (int64_t h = 0; h < heads; ++h) {
    if (gather) gather_tile(keys, plan.values.data() + c.key_begin, c.keys, h * head_stride, bs, hd, &gathered);
    const int64_t shift = gather ? 0 : h * head_stride;
    // Where each group of 8 keys starts, and how far apart its pairs of dims are.
    const T* groups[kTile / 8];
    for (int64_t g = 0; g < c.keys / 8; ++g) {
      groups[g] = gather ? gathered.keys.data() + k_run_offset(8 * g, 0, kTile, word_values<T>()) : keys[8 * g] + shift;
    }
    const int64_t stride = 2 * (gather ? kTile : bs);
    for (int64_t i = c.row_begin; i < c.row_end; i += kRows) {
      const int64_t n = std::min<int64_t>(kRows, c.row_end - i);
      RowBlock b;
      for (int64_t k = 0; k < n; ++k) {
        b.p[k] = scores + k * kTile;
        b.acc[k] = rows.acc_of(h, plan.rows[i + k]);
        if (form == Form::Dot) {
          b.q_words[k] = rows.q_words_of(h, plan.rows[i + k]);
          b.p_words[k] = p_words + k * kTile / 2;
        } else {
          b.q[k] = rows.q_of(h, plan.rows[i + k]);
        }
      }
      if (form == Form::Narrow) {
        score_rows(n, b.q, groups, stride, hd, scores, 0, c.keys, prefetch);
      } else if (form == Form::Wide) {
        score_rows_wide(n, b.q, groups, stride, hd, scores, 0, c.keys, prefetch);
      }
      if (form == Form::Dot) {
        float* max[kRows];
        float* sum16[kRows];
        for (int64_t k = 0; k < n; ++k) {
          max[k] = &rows.max[rows.at(h, plan.rows[i + k])];
          sum16[k] = rows.sum_of(h, plan.rows[i + k]);
        }
        const int64_t* visible = plan.visible.data() + i;
        if constexpr (std::is_same_v<T, uint16_t>) {
          if (c.keys == kTile && std::all_of(visible, visible + n, [](int64_t v) { return v == kTile; })) {
            with_rows(n, [&]<int R>() LLMBATCH_AVX512_BF16 {
              score_softmax_tile_dot<R>(b.q_words, groups, stride, hd, prefetch.take(), scores, visible, max, sum16,
                                        b.acc, p_words);
            });
          } else {
            score_rows_wide(n, b.q_words, groups, stride, hd, scores, 0, c.keys, prefetch);
            softmax_rows_dot(n, b.p, visible, max, sum16, b.acc, hd, p_words);
          }
        }
      } else {
        for (int64_t k = 0; k < n; ++k) {
          const int64_t r = plan.rows[i + k];
          const auto step = form == Form::Narrow ? softmax_step : softmax_step_wide;
          step(scores + k * kTile, plan.visible[i + k], &rows.max[rows.at(h, r)], rows.sum_of(h, r), b.acc[k], hd);
        }
      }
      if (form != Form::Dot) {
        block_values(form, plan, i, n, b.p, values, shift, hd, b.acc);
      } else if constexpr (std::is_same_v<T, uint16_t>) {
        block_values(form, plan, i, n, b.p_words, values, shift, hd, b.acc);
      }
    }
  }
}

template <typename T>
LLMBATCH_AVX2 void attend(const AttentionShape& s, const AttentionItem& item, const AttentionItem* next, const float* q,
                          const T* k_cache, const T* v_cache, Form form, float* out) {
  const int64_t hd = s.head_dim, row_stride = s.num_heads * hd;
  const int64_t heads = item.kv_head_end - item.kv_head_begin;
  const int64_t group = s.num_heads / s.num_kv_heads;
  int64_t n_rows = 0;
  for (const AttentionPiece& piece : item.pieces) n_rows += (piece.token_end - piece.token_begin) * group;

  Scratch& w = scratch();
  w.max.assign(heads * n_rows, -std::numeric_limits<float>::infinity());
  const int64_t sum_lanes = form == Form::Dot ? 16 : 1;
  ItemRows rows{.rows = n_rows,
                .hd = hd,
                .q = form == Form::Dot ? nullptr : aligned_floats(w.q, heads * n_rows * hd),
                .acc = aligned_floats(w.acc, heads * n_rows * hd),
                .max = w.max.data(),
                .sum = aligned_floats(w.sum, heads * n_rows * sum_lanes),
                .sum_lanes = sum_lanes};
  std::fill_n(rows.acc, heads * n_rows * hd, 0.0f);
  std::fill_n(rows.sum, heads * n_rows * sum_lanes, 0.0f);
  float* const scores = aligned_floats(w.scores, kScoreRows * kTile);
  w.position.resize(n_rows);
  w.q_row.resize(n_rows);
  int64_t last_position = 0;
  for (int64_t r = 0; const AttentionPiece& piece : item.pieces) {
    const AttentionSequence& seq = *piece.sequence;
    for (int64_t t = piece.token_begin; t < piece.token_end; ++t) {
      for (int64_t g = 0; g < group; ++g, ++r) {
        w.position[r] = seq.start_position + t;
        w.q_row[r] = (seq.first_row + t) * row_stride + (item.kv_head_begin * group + g) * hd;
      }
    }
    last_position = std::max(last_position, seq.start_position + piece.token_end - 1);
  }
  // q scaled, as f32 rows or (Dot) in bf16 words: the same f32 products.
  const float q_scale = static_cast<float>(std::numbers::log2e / std::sqrt(static_cast<double>(hd)));
  uint32_t* p_words = nullptr;
  if (form == Form::Dot) {  // hd / 2 a multiple of 8: row_to_bf16_pairs writes no padding
    w.q_words.resize(heads * n_rows * hd / 2);
    w.p_words.resize(kScoreRows * kTile / 2);
    rows.q_words = w.q_words.data();
    p_words = w.p_words.data();
  }
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t r = 0; r < n_rows; ++r) {
      const float* src = q + w.q_row[r] + h * group * hd;
      if (form == Form::Dot) {
        row_to_bf16_pairs(src, hd, rows.q_words + rows.at(h, r) * hd / 2, q_scale);
        continue;
      }
      float* dst = rows.q + rows.at(h, r) * hd;  // q_of(), writable
      for (int64_t d = 0; d < hd; ++d) dst[d] = src[d] * q_scale;
    }
  }

  // Tile i is planned, and its blocks asked for, while tile i - 1 is
  // computed: a decode step reads each key and value once, from memory
  // rather than cache. The item's heads take each cluster in turn, so the
  // reads of a block's heads come close together.
  thread_local TilePlan<T> plans[2];
  thread_local NextTileLines prefetch;
  thread_local std::vector<BlockId> next_blocks;
  thread_local GatheredTile<T> gathered;
  if (s.block_size % keys_per_load(form) != 0) gathered.resize(hd);
  // The last tile's blocks (a decode step's own blocks, read from memory
  // where the shared prompt's are in cache) are asked for a share at a
  // time with each tile but the last two, so that their reads overlap the
  // whole item's arithmetic rather than the last tile's but one; that one
  // asks for them again, as its next tile's, for the lines L2 (1 MiB here)
  // has let go since: 32 forks' own blocks can pass it.
  thread_local std::vector<BlockId> last_blocks;
  const int64_t tiles = last_position / kTile + 1, shares = tiles - 2;
  if (shares > 0) tile_blocks(item, (tiles - 1) * kTile, s.block_size, &last_blocks);
  plan_tile(s, item, w.position, k_cache, v_cache, 0, form, &plans[0]);
  for (int64_t tile_begin = 0, t = 0; tile_begin <= last_position; tile_begin += kTile, t ^= 1) {
    const TilePlan<T>& plan = plans[t];
    plans[t ^ 1].clear();
    if (tile_begin + kTile <= last_position) {
      TilePlan<T>& next_plan = plans[t ^ 1];
      plan_tile(s, item, w.position, k_cache, v_cache, tile_begin + kTile, form, &next_plan);
      if (const int64_t tile = tile_begin / kTile; tile < shares) {
        const int64_t n = std::ssize(last_blocks);
        const auto share = last_blocks.begin() + n * tile / shares;
        next_plan.blocks.insert(next_plan.blocks.end(), share, last_blocks.begin() + n * (tile + 1) / shares);
      }
      prefetch.plan(next_plan.blocks, s, item.kv_head_begin, heads, k_cache, v_cache);
    } else if (next != nullptr) {  // the last tile: the next item's first is asked for
      tile_blocks(*next, 0, s.block_size, &next_blocks);
      prefetch.plan(next_blocks, s, next->kv_head_begin, next->kv_head_end - next->kv_head_begin, k_cache, v_cache);
    } else {
      prefetch.plan({}, s, item.kv_head_begin, heads, k_cache, v_cache);
    }
    const int64_t lines_per_block = form == Form::Narrow ? hd - 1 : form == Form::Wide ? kWideLinesPerDim * (hd - 1)
                                                                                      : kDotLinesPerPair * hd / 2;
    prefetch.spread(heads * plan.score_blocks, lines_per_block);
    for (const Cluster& c : plan.clusters) {
      attend_cluster(s, plan, c, heads, rows, prefetch, scores, p_words, gathered, form);
    }
    prefetch.finish();
  }
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t r = 0; r < n_rows; ++r) {
      const float inv = 1.0f / (form == Form::Dot ? lanes_sum(rows.sum_of(h, r)) : *rows.sum_of(h, r));
      float* dst = out + w.q_row[r] + h * group * hd;
      const float* acc = rows.acc_of(h, r);
      for (int64_t d = 0; d < hd; ++d) dst[d] = acc[d] * inv;
    }
  }
}

}  // namespace

bool attend_avx2_supports(const AttentionShape& shape) {
  return cpu_supports_avx2_fma() && shape.head_dim % 16 == 0 &&
         (shape.kv_dtype == DType::BF16 || shape.kv_dtype == DType::F32);
}

bool attend_avx512_supports(const AttentionShape& shape) {
  return attend_avx2_supports(shape) && cpu_supports_avx512f();
}

bool attend_avx512_bf16_supports(const AttentionShape& shape) {
  return attend_avx512_supports(shape) && shape.kv_dtype == DType::BF16 && cpu_supports_avx512_bf16();
}

namespace {

void attend_any(const AttentionShape& shape, const AttentionItem& item, const AttentionItem* next, const float* q,
                const void* k_cache, const void* v_cache, Form form, float* out) {
  if (shape.kv_dtype == DType::F32) {
    attend(shape, item, next, q, static_cast<const float*>(k_cache), static_cast<const float*>(v_cache), form, out);
  } else {
    attend(shape, item, next, q, static_cast<const uint16_t*>(k_cache), static_cast<const uint16_t*>(v_cache), form,
           out);
  }
}

}  // namespace

void attend_avx2(const AttentionShape& shape, const AttentionItem& item, const AttentionItem* next, const float* q,
                 const void* k_cache, const void* v_cache, float* out) {
  LLMBATCH_CHECK(attend_avx2_supports(shape), "attend_avx2 needs AVX2, FMA, head_dim % 16 == 0 and bf16/f32 KV");
  attend_any(shape, item, next, q, k_cache, v_cache, Form::Narrow, out);
}

void attend_avx512(const AttentionShape& shape, const AttentionItem& item, const AttentionItem* next, const float* q,
                   const void* k_cache, const void* v_cache, float* out) {
  LLMBATCH_CHECK(attend_avx512_supports(shape), "attend_avx512 needs AVX-512F and attend_avx2's shapes");
  attend_any(shape, item, next, q, k_cache, v_cache, Form::Wide, out);
}

void attend_avx512_bf16(const AttentionShape& shape, const AttentionItem& item, const AttentionItem* next,
                        const float* q, const void* k_cache, const void* v_cache, float* out) {
  LLMBATCH_CHECK(attend_avx512_bf16_supports(shape),
                 "attend_avx512_bf16 needs AVX512_BF16, bf16 KV and attend_avx2's shapes");
  attend_any(shape, item, next, q, k_cache, v_cache, Form::Dot, out);
}

}  // namespace llmbatch
