// The bf16 dot-product form's blocks of the vector attention kernel
// (attention_avx2.cpp, `Dot`): VDPBF16PS score and value chains, the
// small-cluster chains over several KV heads at once, and the dot form's
// online softmax (lazily moved reference max, 16-lane sums of the rounded
// weights), on scores in memory or still in registers.
// A part of attention_avx2.cpp, as attention_vector_common.h is.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

#include "backend/cpu/attention_vector_common.h"
#include "backend/cpu/simd_exp.h"

namespace llmbatch {
namespace {

// ---- the bf16 dot-product blocks (Form::Dot) -----------------------------
//
// q rounded to bf16 (row_to_bf16_pairs) and the softmax weights p too
// (softmax_rows_dot), K and V bf16 from the cache: one VDPBF16PS adds a
// pair of products to each of 16 lanes. Scores: lane = key, the pair = 2
// dims of the key's word, a chain over the pairs of dims. Values: lane =
// dim, the pair = 2 tokens of V's word, a chain over the pairs of keys in
// order. 2 multiply-adds per lane and instruction where the f32 forms do 1.

// Prefetch lines a dot block asks for per pair of dims at most.
constexpr int kDotLinesPerPair = 2 * kWideLinesPerDim;

// Asks for up to kDotLinesPerPair of the share's lines, `*left` of them
// not yet asked for: a score loop's step per pair of dims.
inline void ask_pair_lines(NextTileLines::Share& share, int64_t* left) {
  for (int l = 0; l < kDotLinesPerPair && *left > 0; ++l, --*left) ask_next_line(share);
}

// acc[r][x] += word i of row r (a bf16 pair, to every lane) · b[x], for R
// rows and X vectors of 16 lanes: one link of each lane's chain, scores and
// values alike.
template <int R, int X>
LLMBATCH_AVX512_BF16 inline void dot_words(const uint32_t* const* rows, int64_t i, const __m512bh (&b)[X],
                                           __m512 (&acc)[R][X]) {
  LLMBATCH_UNROLL
  for (int r = 0; r < R; ++r) {
    const __m512bh word = (__m512bh)_mm512_set1_epi32(static_cast<int>(rows[r][i]));
    LLMBATCH_UNROLL
    for (int x = 0; x < X; ++x) acc[r][x] = _mm512_dpbf16_ps(acc[r][x], b[x], word);
  }
}

// acc[r][g] += q_r pair i · the 16 keys' pair i at k[g] + offset, for R rows
// and G groups of 16 keys.
template <int R, int G>
LLMBATCH_AVX512_BF16 inline void add_score_pair(const uint32_t* const* q, const uint16_t* const* k, int64_t offset,
                                                int64_t i, __m512 (&acc)[R][G]) {
  __m512bh kg[G];
  LLMBATCH_UNROLL
  for (int g = 0; g < G; ++g) kg[g] = (__m512bh)_mm512_loadu_si512(k[g] + offset);
  dot_words(q, i, kg, acc);
}

// acc[r][g] = q_r · k_j for the 16 keys of group g (pair 0 at k[2 * g]:
// k holds 8-key groups), a VDPBF16PS chain over the pairs of dims from
// zero. q: R rows of hd / 2 words.
template <int R, int G>
LLMBATCH_AVX512_BF16 inline void score_chains_dot(const uint32_t* const* q, const uint16_t* const* k,
                                                  int64_t pair_stride, int64_t hd, NextTileLines::Share prefetch,
                                                  __m512 (&acc)[R][G]) {
  const uint16_t* pairs[G];
  LLMBATCH_UNROLL
  for (int g = 0; g < G; ++g) {
    pairs[g] = k[2 * g];
    LLMBATCH_UNROLL
    for (int r = 0; r < R; ++r) acc[r][g] = _mm512_setzero_ps();
  }
  for (int64_t i = 0, left = prefetch.lines; i < hd / 2; ++i) {
    ask_pair_lines(prefetch, &left);
    add_score_pair(q, pairs, i * pair_stride, i, acc);
  }
}

// score_block_wide in bf16 words: s[r * kTile + j ..] = score_chains_dot.
template <int R, int G>
LLMBATCH_AVX512_BF16 void score_block_wide(const uint32_t* const* q, const uint16_t* const* k, int64_t pair_stride,
                                           int64_t hd, float* s, int64_t j, NextTileLines::Share prefetch) {
  __m512 acc[R][G];
  score_chains_dot(q, k, pair_stride, hd, prefetch, acc);
  store_scores(acc, s, j);
}

// 32 bf16 values of a V pair row: one dim of two tokens to a word. Where the
// pair's second token is past the keys a row sees (`alone`) its half is
// cleared: its weight is 0, but the slot may hold anything (a token this
// step has not written yet, or a block's earlier owner's: 0 · Inf is NaN),
// and a row's bits must not depend on it.
LLMBATCH_AVX512_BF16 inline __m512bh pair_row(const uint16_t* v, bool alone) {
  const __m512i words = _mm512_loadu_si512(v);
  return (__m512bh)(alone ? _mm512_and_si512(words, _mm512_set1_epi32(0xFFFF)) : words);
}

// a[r][w] += p[r] pair i · 16 W dims of the pair row at v (pair_row()).
template <int R, int W>
LLMBATCH_AVX512_BF16 inline void add_pair(const uint32_t* const* p, const uint16_t* v, int64_t i, bool alone,
                                          __m512 (&a)[R][W]) {
  __m512bh vw[W];
  LLMBATCH_UNROLL
  for (int w = 0; w < W; ++w) vw[w] = pair_row(v + 32 * w, alone);
  dot_words(p, i, vw, a);
}

// value_block_wide in bf16 words: acc[r][d] += p_r pair · (v_2i[d],
// v_2i+1[d]) for the pairs of keys i in [j_begin / 2, (j_end + 1) / 2), in
// order; j_begin even. p: R rows of kTile / 2 words; values[2i]: the first
// word of the pair's row (a token's dims are word_values() apart).
template <int R, int W>
LLMBATCH_AVX512_BF16 void value_block_wide(const uint32_t* const* p, const uint16_t* const* values, int64_t shift,
                                           int64_t j_begin, int64_t j_end, int64_t hd, float* const* acc) {
  for (int64_t c = 0; c < hd; c += 16 * W) {
    __m512 a[R][W];
    load_rows(acc, c, a);
    for (int64_t i = j_begin / 2; i < j_end / 2; ++i) add_pair(p, values[2 * i] + shift + 2 * c, i, false, a);
    if (j_end % 2 == 1) add_pair(p, values[j_end - 1] + shift + 2 * c, j_end / 2, true, a);
    store_rows(acc, c, a);
  }
}

// ---- small clusters: a sequence's own blocks (dot form) ------------------
//
// A cluster of a few rows (one sequence's query heads of each KV head) over
// few keys (a decode step's last tile: the sequence's own blocks) is mostly
// waiting: one KV head's 3 rows x 16 keys are 3 score chains of hd / 2
// dependent dot products, and its values few loads from memory at a time.
// The item's KV heads go together here, H heads x N rows x G groups of
// chains in one loop, and their values likewise. Each chain is the one
// score_block_wide and value_block_wide compute, in the same order, so the
// bits are the same.

constexpr int kSmallRows = 3, kSmallHeads = 3, kSmallGroups = 2;
// Rows of the scores' (and the dot form's weights') scratch.
constexpr int kScoreRows = std::max(kRows, kSmallRows * kSmallHeads);

// s[h * N + n][16g ..] = q[h * N + n] · the 16 keys from k[h * G + g] (pair
// 0; pair i at + i * pair_stride), for H heads, N rows each, G groups of
// 16 keys (H x N x G ≤ 18 chains: 32 registers); asks for the lines of one
// prefetch share per head.
template <int N, int H, int G>
LLMBATCH_AVX512_BF16 void score_heads_dot(const uint32_t* const* q, const uint16_t* const* k, int64_t pair_stride,
                                          int64_t hd, float* const* s, NextTileLines::Share* prefetch) {
  __m512 acc[H][N][G];
  int64_t left[H];
  LLMBATCH_UNROLL
  for (int h = 0; h < H; ++h) {
    left[h] = prefetch[h].lines;
    LLMBATCH_UNROLL
    for (int n = 0; n < N; ++n) {
      LLMBATCH_UNROLL
      for (int g = 0; g < G; ++g) acc[h][n][g] = _mm512_setzero_ps();
    }
  }
  for (int64_t i = 0; i < hd / 2; ++i) {
    LLMBATCH_UNROLL
    for (int h = 0; h < H; ++h) {
      ask_pair_lines(prefetch[h], &left[h]);
      add_score_pair(q + h * N, k + h * G, i * pair_stride, i, acc[h]);
    }
  }
  LLMBATCH_UNROLL
  for (int h = 0; h < H; ++h) {
    LLMBATCH_UNROLL
    for (int n = 0; n < N; ++n) {
      LLMBATCH_UNROLL
      for (int g = 0; g < G; ++g) _mm512_storeu_ps(s[h * N + n] + 16 * g, acc[h][n][g]);
    }
  }
}

// acc[h * N + n][d] += p[h * N + n] pair · (v_2i[d], v_2i+1[d]) for the
// pairs of keys i in [0, (keys + 1) / 2), in order, for H heads, N rows
// each: head h's values from values[2i] + shift[h]. 32 dims at a time (hd %
// 32 == 0).
template <int N, int H>
LLMBATCH_AVX512_BF16 void value_heads_dot(const uint32_t* const* p, const uint16_t* const* values,
                                          const int64_t* shift, int64_t keys, int64_t hd, float* const* acc) {
  for (int64_t c = 0; c < hd; c += 32) {
    __m512 a[H][N][2];
    LLMBATCH_UNROLL
    for (int h = 0; h < H; ++h) load_rows(acc + h * N, c, a[h]);
    const auto add_pairs = [&](int64_t i, bool alone) LLMBATCH_AVX512_BF16 {
      LLMBATCH_UNROLL
      for (int h = 0; h < H; ++h) add_pair(p + h * N, values[2 * i] + shift[h] + 2 * c, i, alone, a[h]);
    };
    for (int64_t i = 0; i < keys / 2; ++i) add_pairs(i, false);
    if (keys % 2 == 1) add_pairs(keys / 2, true);
    LLMBATCH_UNROLL
    for (int h = 0; h < H; ++h) store_rows(acc + h * N, c, a[h]);
  }
}

// The instantiation for n rows, h heads, g groups of 16 keys.
template <int N, int H>
LLMBATCH_AVX512_BF16 void score_heads_dot_groups(int64_t g, const uint32_t* const* q, const uint16_t* const* k,
                                                 int64_t pair_stride, int64_t hd, float* const* s,
                                                 NextTileLines::Share* prefetch) {
  if (g == 1) return score_heads_dot<N, H, 1>(q, k, pair_stride, hd, s, prefetch);
  return score_heads_dot<N, H, 2>(q, k, pair_stride, hd, s, prefetch);
}

template <int N>
LLMBATCH_AVX512_BF16 void score_small_dot(int64_t h, int64_t g, const uint32_t* const* q, const uint16_t* const* k,
                                            int64_t pair_stride, int64_t hd, float* const* s,
                                            NextTileLines::Share* prefetch) {
  switch (h) {
    case 1: return score_heads_dot_groups<N, 1>(g, q, k, pair_stride, hd, s, prefetch);
    case 2: return score_heads_dot_groups<N, 2>(g, q, k, pair_stride, hd, s, prefetch);
    default: return score_heads_dot_groups<N, 3>(g, q, k, pair_stride, hd, s, prefetch);
  }
}

template <int N>
LLMBATCH_AVX512_BF16 void values_small_dot(int64_t h, const uint32_t* const* p, const uint16_t* const* values,
                                           const int64_t* shift, int64_t keys, int64_t hd, float* const* acc) {
  switch (h) {
    case 1: return value_heads_dot<N, 1>(p, values, shift, keys, hd, acc);
    case 2: return value_heads_dot<N, 2>(p, values, shift, keys, hd, acc);
    default: return value_heads_dot<N, 3>(p, values, shift, keys, hd, acc);
  }
}

// Weights p = 2^(lo - shift), 2^(hi - shift) of 32 keys rounded into 16
// bf16 words (lo's in the low halves) at `words`, and added to a row's 16
// lanes of sum in the order the value blocks read them: the one link from
// scores to weights, for scores loaded from memory or kept in registers.
LLMBATCH_AVX512_BF16 inline void weights_to_words(__m512 lo, __m512 hi, __m512 shift, uint32_t* words_out,
                                                  __m512* total) {
  const __m512i high = _mm512_set1_epi32(static_cast<int>(0xFFFF0000u));
  const __m512i words = (__m512i)_mm512_cvtne2ps_pbh(exp2_bf16_avx512(_mm512_sub_ps(hi, shift)),
                                                     exp2_bf16_avx512(_mm512_sub_ps(lo, shift)));
  _mm512_storeu_si512(words_out, words);
  *total = _mm512_add_ps(*total, _mm512_castsi512_ps(_mm512_slli_epi32(words, 16)));
  *total = _mm512_add_ps(*total, _mm512_castsi512_ps(_mm512_and_si512(words, high)));
}

// Online-softmax step of a row block's n rows over one tile, the dot
// form: the tile's weights rounded to bf16 words (VCVTNE2PS2BF16: to
// nearest even, subnormal weights flushed to zero), 2^x to bf16 precision
// (exp2_bf16_avx512); the running sum, of the rounded weights, kept in 16
// lanes (sum16[r]) until the item ends, so numerator and denominator see
// the same weights. The weights' reference (*max[r]) moves only when a
// tile's max passes it by more than kLazyMax (2^8: a weight up to 256, well
// within f32 and bf16 range, at bf16's relative precision all the same):
// then the row's accumulator and sum are rescaled by 2^(old - new), and on
// the first tile it is set (from -inf; nothing to rescale). Past the first
// tiles a reference rarely moves, and a block of rows skips the rescale
// together. n ≤ 16 rows; s[r]: row r's kTile scores (log2 units), of which
// visible[r] count; its weights go to p_words + r * kTile / 2.
constexpr float kLazyMax = 8.0f;

LLMBATCH_AVX512_BF16 void softmax_rows_dot(int64_t n, const float* const* s, const int64_t* visible,
                                           float* const* max, float* const* sum16, float* const* acc, int64_t hd,
                                           uint32_t* p_words) {
  constexpr int kVectors = kTile / 16;
  static_assert(kTile == 64 && kVectors % 2 == 0);  // a row's visible keys as one 64-bit mask
  const __m512 neg_inf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  alignas(64) float old_max[16] = {}, new_max[16] = {}, rescale[16];
  uint64_t seen[16];
  bool rescaled = false;
  for (int64_t r = 0; r < n; ++r) {
    seen[r] = visible[r] >= kTile ? ~uint64_t{0} : (uint64_t{1} << visible[r]) - 1;
    __m512 m = neg_inf;
    for (int i = 0; i < kVectors && 16 * i < visible[r]; ++i) {
      m = _mm512_max_ps(m, _mm512_mask_load_ps(neg_inf, static_cast<__mmask16>(seen[r] >> (16 * i)), s[r] + 16 * i));
    }
    const float tile_max = _mm512_reduce_max_ps(m);
    old_max[r] = new_max[r] = *max[r];
    if (tile_max > old_max[r] + kLazyMax) {  // false for NaN: the row's output is NaN anyway
      new_max[r] = tile_max;
      rescaled |= old_max[r] != -std::numeric_limits<float>::infinity();
    }
    *max[r] = new_max[r];
  }
  if (rescaled) {
    _mm512_store_ps(rescale, exp2_bf16_avx512(_mm512_sub_ps(_mm512_load_ps(old_max), _mm512_load_ps(new_max))));
    for (int64_t r = 0; r < n; ++r) {
      // Rows whose max stayed, and first tiles' (zero accumulator and sum).
      if (old_max[r] == new_max[r] || old_max[r] == -std::numeric_limits<float>::infinity()) continue;
      const __m512 factor = _mm512_set1_ps(rescale[r]);
      for (int64_t d = 0; d < hd; d += 16) {
        _mm512_storeu_ps(acc[r] + d, _mm512_mul_ps(factor, _mm512_loadu_ps(acc[r] + d)));
      }
      _mm512_store_ps(sum16[r], _mm512_mul_ps(factor, _mm512_load_ps(sum16[r])));
    }
  }
  for (int64_t r = 0; r < n; ++r) {
    const __m512 shift = _mm512_set1_ps(new_max[r]);
    __m512 total = _mm512_load_ps(sum16[r]);
    // Only the pairs of vectors that hold visible keys: the value blocks read
    // no word past the last visible key's, and the others would add zeros.
    for (int i = 0; i < kVectors && 16 * i < visible[r]; i += 2) {
      const __m512 low = _mm512_mask_load_ps(neg_inf, static_cast<__mmask16>(seen[r] >> (16 * i)), s[r] + 16 * i);
      const __m512 next =
          _mm512_mask_load_ps(neg_inf, static_cast<__mmask16>(seen[r] >> (16 * i + 16)), s[r] + 16 * i + 16);
      weights_to_words(low, next, shift, p_words + r * kTile / 2 + 8 * i, &total);  // 0 where not visible
    }
    _mm512_store_ps(sum16[r], total);
  }
}

// softmax_rows_dot for R rows that all see the whole tile, their scores
// still in the registers of score_chains_dot: where no row's reference max
// moves from a finite value (past a row's first tile, nearly always), its
// operations on the same values, so the same bits, without the scores'
// round trip through memory and the masks; a row's first tile sets its
// reference to the tile's max as softmax_rows_dot does (no NaN: the max is
// the same in any order, but for a zero's sign, which 2^(x - max) and
// max + kLazyMax do not see). Else the scores go to `scores` (row r at
// r * kTile) and softmax_rows_dot takes the block, as it does a NaN score.
template <int R>
LLMBATCH_AVX512_BF16 void softmax_tile_dot(const __m512 (&acc)[R][kTile / 16], float* scores, const int64_t* visible,
                                           float* const* max, float* const* sum16, float* const* out_acc, int64_t hd,
                                           uint32_t* p_words) {
  static_assert(kTile / 16 == 4);
  __mmask16 elsewhere = 0;  // lanes that send the block to softmax_rows_dot
  float reference[R];
  LLMBATCH_UNROLL
  for (int r = 0; r < R; ++r) {
    reference[r] = *max[r];
    if (reference[r] == -std::numeric_limits<float>::infinity()) {
      LLMBATCH_UNROLL
      for (int g = 0; g < 4; ++g) elsewhere |= _mm512_cmp_ps_mask(acc[r][g], acc[r][g], _CMP_UNORD_Q);
      const float tile_max = _mm512_reduce_max_ps(
          _mm512_max_ps(_mm512_max_ps(acc[r][0], acc[r][1]), _mm512_max_ps(acc[r][2], acc[r][3])));
      if (tile_max > reference[r] + kLazyMax) reference[r] = tile_max;
    } else {
      const __m512 limit = _mm512_set1_ps(reference[r] + kLazyMax);
      LLMBATCH_UNROLL
      for (int g = 0; g < 4; ++g) elsewhere |= _mm512_cmp_ps_mask(acc[r][g], limit, _CMP_NLE_UQ);
    }
  }
  if (elsewhere != 0) {
    store_scores(acc, scores, 0);
    const float* rows[R];
    for (int r = 0; r < R; ++r) rows[r] = scores + r * kTile;
    return softmax_rows_dot(R, rows, visible, max, sum16, out_acc, hd, p_words);
  }
  LLMBATCH_UNROLL
  for (int r = 0; r < R; ++r) {
    *max[r] = reference[r];
    const __m512 shift = _mm512_set1_ps(reference[r]);
    __m512 total = _mm512_load_ps(sum16[r]);
    LLMBATCH_UNROLL
    for (int i = 0; i < 4; i += 2) {
      weights_to_words(acc[r][i], acc[r][i + 1], shift, p_words + r * kTile / 2 + 8 * i, &total);
    }
    _mm512_store_ps(sum16[r], total);
  }
}

// Scores and softmax of R rows that all see the whole tile, which the
// cluster scores whole (64 keys from k[0]): score_block_wide<R, 4> and
// softmax_rows_dot, the scores kept in registers between them
// (softmax_tile_dot).
template <int R>
LLMBATCH_AVX512_BF16 void score_softmax_tile_dot(const uint32_t* const* q, const uint16_t* const* k,
                                                 int64_t pair_stride, int64_t hd, NextTileLines::Share prefetch,
                                                 float* scores, const int64_t* visible, float* const* max,
                                                 float* const* sum16, float* const* out_acc, uint32_t* p_words) {
  __m512 acc[R][kTile / 16];
  score_chains_dot(q, k, pair_stride, hd, prefetch, acc);
  softmax_tile_dot(acc, scores, visible, max, sum16, out_acc, hd, p_words);
}

// A dot-form row's sum: its 16 lanes added in a fixed order.
LLMBATCH_AVX512 float lanes_sum(const float* sum16) { return _mm512_reduce_add_ps(_mm512_load_ps(sum16)); }

}  // namespace
}  // namespace llmbatch
