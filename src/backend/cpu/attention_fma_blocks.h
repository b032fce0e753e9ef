// The f32 forms' blocks of the vector attention kernel
// (attention_avx2.cpp): AVX2 + FMA (`Narrow`, 8 lanes) and its AVX-512 form
// (`Wide`, 16 lanes, the same chains, so the same bits), with their online
// softmax steps.
// A part of attention_avx2.cpp, as attention_vector_common.h is.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

#include "backend/cpu/attention_vector_common.h"
#include "backend/cpu/simd_exp.h"

namespace llmbatch {
namespace {

// acc = qd * kg (First: the products of dim 0 start the chains; an FMA onto
// zero would round the same, and starting from products keeps GCC 12 from
// holding the chains in memory), else acc += qd * kg.
template <bool First>
LLMBATCH_AVX2 inline void add_product(__m256 qd, __m256 kg, __m256* acc) {
  if constexpr (First) {
    *acc = _mm256_mul_ps(qd, kg);
  } else {
    *acc = _mm256_fmadd_ps(qd, kg, *acc);
  }
}

// One dim of a score block: acc[r][g] (+)= q_r[d] * dim d of group g's
// keys, d = 2i + Half, from the groups' pair i.
template <int R, int G, int Half, bool First, typename T>
LLMBATCH_AVX2 inline void score_dim(const float* const* q, const T* const* pairs, int64_t pair_stride, int64_t d,
                                    __m256 (&acc)[R][G]) {
  // 16 registers: 6 rows x 2 groups hold both keys and one q at a time,
  // 3 rows x 4 groups all three q and one key at a time.
  if constexpr (G <= 2) {
    __m256 kg[G];
    LLMBATCH_UNROLL
    for (int g = 0; g < G; ++g) kg[g] = key_dims<Half>(pairs[g], pair_stride);
    LLMBATCH_UNROLL
    for (int r = 0; r < R; ++r) {
      const __m256 qd = _mm256_broadcast_ss(q[r] + d);
      LLMBATCH_UNROLL
      for (int g = 0; g < G; ++g) add_product<First>(qd, kg[g], &acc[r][g]);
    }
  } else {
    __m256 qd[R];
    LLMBATCH_UNROLL
    for (int r = 0; r < R; ++r) qd[r] = _mm256_broadcast_ss(q[r] + d);
    LLMBATCH_UNROLL
    for (int g = 0; g < G; ++g) {
      const __m256 kg = key_dims<Half>(pairs[g], pair_stride);
      LLMBATCH_UNROLL
      for (int r = 0; r < R; ++r) add_product<First>(qd[r], kg, &acc[r][g]);
    }
  }
}

// s[r * kTile + j + 8g + i] = q_r · k_{j + 8g + i} for R rows and the 8 keys
// of each of G groups, group g's pair 0 at k[g], pair i pair_stride on. One FMA
// chain per score over d = 0 .. hd - 1, whatever R and G and wherever the
// keys come from. q: R rows of hd floats. Between the dims it asks for the
// lines of `prefetch` (at most hd - 1, into L2), one at a time: see
// NextTileLines.
template <int R, int G, typename T>
LLMBATCH_AVX2 void score_block(const float* const* q, const T* const* k, int64_t pair_stride, int64_t hd, float* s,
                               int64_t j, NextTileLines::Share prefetch) {
  __m256 acc[R][G];
  const T* pairs[G];
  LLMBATCH_UNROLL
  for (int g = 0; g < G; ++g) pairs[g] = k[g];
  score_dim<R, G, 0, true>(q, pairs, pair_stride, 0, acc);
  for (int64_t d = 1; d < hd; d += 2) {
    if (d <= prefetch.lines) ask_next_line(prefetch);
    score_dim<R, G, 1, false>(q, pairs, pair_stride, d, acc);
    if (d + 1 == hd) break;
    LLMBATCH_UNROLL
    for (int g = 0; g < G; ++g) pairs[g] += pair_stride;
    if (d + 1 <= prefetch.lines) ask_next_line(prefetch);
    score_dim<R, G, 0, false>(q, pairs, pair_stride, d + 1, acc);
  }
  LLMBATCH_UNROLL
  for (int r = 0; r < R; ++r) {
    LLMBATCH_UNROLL
    for (int g = 0; g < G; ++g) _mm256_storeu_ps(s + r * kTile + j + 8 * g, acc[r][g]);
  }
}

// acc[r] += p[r][j] * v_j for j in [j_begin, j_end), in order, for R rows,
// 16 * W dims at a time; v_j's first dim at values[j] + shift, the next
// word_values() on. p: R rows of weights; acc: R rows of hd in dim order.
template <int R, int W, typename T>
LLMBATCH_AVX2 void value_block(const float* const* p, const T* const* values, int64_t shift, int64_t j_begin,
                               int64_t j_end, int64_t hd, float* const* acc) {
  for (int64_t c = 0; c < hd; c += 16 * W) {
    __m256 a[R][2 * W];
    LLMBATCH_UNROLL
    for (int r = 0; r < R; ++r) {
      LLMBATCH_UNROLL
      for (int i = 0; i < 2 * W; ++i) a[r][i] = _mm256_loadu_ps(acc[r] + c + 8 * i);
    }
    for (int64_t j = j_begin; j < j_end; ++j) {
      LLMBATCH_UNROLL
      for (int w = 0; w < W; ++w) {
        const T* v = values[j] + shift + word_values<T>() * (c + 16 * w);
        const __m256 v0 = value_dims(v), v1 = value_dims(v + word_values<T>() * 8);
        LLMBATCH_UNROLL
        for (int r = 0; r < R; ++r) {
          const __m256 pj = _mm256_broadcast_ss(p[r] + j);
          a[r][2 * w] = _mm256_fmadd_ps(pj, v0, a[r][2 * w]);
          a[r][2 * w + 1] = _mm256_fmadd_ps(pj, v1, a[r][2 * w + 1]);
        }
      }
    }
    LLMBATCH_UNROLL
    for (int r = 0; r < R; ++r) {
      LLMBATCH_UNROLL
      for (int i = 0; i < 2 * W; ++i) _mm256_storeu_ps(acc[r] + c + 8 * i, a[r][i]);
    }
  }
}

// value_block for R rows with the widest W that divides head_dim and keeps
// the accumulators at 8 (8 independent FMA chains hide the FMA latency), or
// 2 * R for R > 4.
template <int R, typename T>
LLMBATCH_AVX2 void value_rows(const float* const* p, const T* const* values, int64_t shift, int64_t j_begin,
                              int64_t j_end, int64_t hd, float* const* acc) {
  constexpr int kWidest = 4 / R > 0 ? 4 / R : 1;
  if (kWidest >= 4 && hd % 64 == 0) {
    value_block<R, kWidest>(p, values, shift, j_begin, j_end, hd, acc);
  } else if (kWidest >= 2 && hd % 32 == 0) {
    value_block<R, std::min(kWidest, 2)>(p, values, shift, j_begin, j_end, hd, acc);
  } else {
    value_block<R, 1>(p, values, shift, j_begin, j_end, hd, acc);
  }
}

// ---- the wide (AVX-512) blocks ------------------------------------------

// key_dims and value_dims with 16 keys or dims to a vector.
template <int Half>
LLMBATCH_AVX512 inline __m512 key_dims_wide(const float* pair, int64_t pair_stride) {
  return _mm512_loadu_ps(pair + Half * pair_stride / 2);
}

template <int Half>
LLMBATCH_AVX512 inline __m512 key_dims_wide(const uint16_t* pair, int64_t /*pair_stride*/) {
  const __m512i words = _mm512_loadu_si512(pair);
  if constexpr (Half == 0) return _mm512_castsi512_ps(_mm512_slli_epi32(words, 16));
  return _mm512_castsi512_ps(_mm512_and_si512(words, _mm512_set1_epi32(static_cast<int>(0xFFFF0000u))));
}

LLMBATCH_AVX512 inline __m512 value_dims_wide(const float* v) { return _mm512_loadu_ps(v); }

LLMBATCH_AVX512 inline __m512 value_dims_wide(const uint16_t* v) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_loadu_si512(v), 16));
}

// score_dim with 16 keys to a vector. 32 registers: up to 6 rows x 4
// groups, the 4 keys and one q.
template <int R, int G, int Half, bool First, typename T>
LLMBATCH_AVX512 inline void score_dim_wide(const float* const* q, const T* const* pairs, int64_t pair_stride,
                                           int64_t d, __m512 (&acc)[R][G]) {
  __m512 kg[G];
  LLMBATCH_UNROLL
  for (int g = 0; g < G; ++g) kg[g] = key_dims_wide<Half>(pairs[g], pair_stride);
  LLMBATCH_UNROLL
  for (int r = 0; r < R; ++r) {
    const __m512 qd = _mm512_set1_ps(q[r][d]);
    LLMBATCH_UNROLL
    for (int g = 0; g < G; ++g) {
      if constexpr (First) {
        acc[r][g] = _mm512_mul_ps(qd, kg[g]);
      } else {
        acc[r][g] = _mm512_fmadd_ps(qd, kg[g], acc[r][g]);
      }
    }
  }
}

// Up to kWideLinesPerDim prefetch lines for dim d >= 1: a wide block covers
// up to 64 keys.
inline void ask_wide_lines(NextTileLines::Share& prefetch, int64_t d) {
  LLMBATCH_UNROLL
  for (int i = 0; i < kWideLinesPerDim; ++i) {
    if (kWideLinesPerDim * (d - 1) + i < prefetch.lines) ask_next_line(prefetch);
  }
}

// score_block with 16 keys to a vector: G groups of 16 keys, group g's
// pair 0 at k[2 * g] (k holds 8-key groups). The same chains: score
// (r, key) = fma over d = 0 .. hd - 1 from q_r[0] * k[0].
template <int R, int G, typename T>
LLMBATCH_AVX512 void score_block_wide(const float* const* q, const T* const* k, int64_t pair_stride, int64_t hd,
                                      float* s, int64_t j, NextTileLines::Share prefetch) {
  __m512 acc[R][G];
  const T* pairs[G];
  LLMBATCH_UNROLL
  for (int g = 0; g < G; ++g) pairs[g] = k[2 * g];
  score_dim_wide<R, G, 0, true>(q, pairs, pair_stride, 0, acc);
  for (int64_t d = 1; d < hd; d += 2) {
    ask_wide_lines(prefetch, d);
    score_dim_wide<R, G, 1, false>(q, pairs, pair_stride, d, acc);
    if (d + 1 == hd) break;
    LLMBATCH_UNROLL
    for (int g = 0; g < G; ++g) pairs[g] += pair_stride;
    ask_wide_lines(prefetch, d + 1);
    score_dim_wide<R, G, 0, false>(q, pairs, pair_stride, d + 1, acc);
  }
  store_scores(acc, s, j);
}

// value_block with 16 dims to a vector: acc[r][d] += p[r][j] * v_j[d] for
// j in [j_begin, j_end) in order, W vectors of dims at a time.
template <int R, int W, typename T>
LLMBATCH_AVX512 void value_block_wide(const float* const* p, const T* const* values, int64_t shift, int64_t j_begin,
                                      int64_t j_end, int64_t hd, float* const* acc) {
  for (int64_t c = 0; c < hd; c += 16 * W) {
    __m512 a[R][W];
    load_rows(acc, c, a);
    for (int64_t j = j_begin; j < j_end; ++j) {
      __m512 v[W];
      LLMBATCH_UNROLL
      for (int w = 0; w < W; ++w) v[w] = value_dims_wide(values[j] + shift + word_values<T>() * (c + 16 * w));
      LLMBATCH_UNROLL
      for (int r = 0; r < R; ++r) {
        const __m512 pj = _mm512_set1_ps(p[r][j]);
        LLMBATCH_UNROLL
        for (int w = 0; w < W; ++w) a[r][w] = _mm512_fmadd_ps(pj, v[w], a[r][w]);
      }
    }
    store_rows(acc, c, a);
  }
}

// The running max of a row meets a tile's max: where the tile's is larger
// it becomes the running max and the accumulator is rescaled by
// 2^(old - new) (0 on the first tile). Returns the factor for the running
// sum, 1 where the max stays. Elementwise, so both softmax widths share it.
LLMBATCH_AVX2 float raise_max(float tile_max, float* max, float* acc, int64_t hd) {
  if (!(tile_max > *max)) return 1.0f;
  const float rescale = _mm256_cvtss_f32(exp2_avx2(_mm256_set1_ps(*max - tile_max)));
  *max = tile_max;
  const __m256 r = _mm256_set1_ps(rescale);
  for (int64_t d = 0; d < hd; d += 8) _mm256_store_ps(acc + d, _mm256_mul_ps(r, _mm256_load_ps(acc + d)));
  return rescale;
}

// Online-softmax step of one row over one tile: s: the row's kTile scores
// (log2 units), of which the first `visible` count; turns them into the
// weights p_j and rescales the row's running sum and accumulator when the
// running max grows.
LLMBATCH_AVX2 void softmax_step(float* s, int64_t visible, float* max, float* sum, float* acc, int64_t hd) {
  constexpr int kVectors = kTile / 8;
  const __m256 neg_inf = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  __m256 v[kVectors];
  __m256 m = neg_inf;
  for (int i = 0; i < kVectors; ++i) {
    v[i] = _mm256_load_ps(s + 8 * i);
    if (visible < kTile) {
      const __m256i j = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
      const __m256i seen = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(visible - 8 * i)), j);
      v[i] = _mm256_blendv_ps(neg_inf, v[i], _mm256_castsi256_ps(seen));
    }
    m = _mm256_max_ps(m, v[i]);
  }
  const float rescale = raise_max(hmax(m), max, acc, hd);
  const __m256 shift = _mm256_set1_ps(*max);
  __m256 total = _mm256_setzero_ps();
  for (int i = 0; i < kVectors; ++i) {
    const __m256 p = exp2_avx2(_mm256_sub_ps(v[i], shift));  // 0 where not visible
    _mm256_store_ps(s + 8 * i, p);
    total = _mm256_add_ps(total, p);
  }
  *sum = *sum * rescale + hsum(total);
}

// softmax_step with 16 lanes, the same bits: the max is exact in any order
// (unless a score is NaN, when the row's output is NaN on either path),
// 2^x is exp2_avx2's operations on 16 lanes, and the tile's sum adds the
// 8-key halves in softmax_step's order.
LLMBATCH_AVX512 void softmax_step_wide(float* s, int64_t visible, float* max, float* sum, float* acc, int64_t hd) {
  constexpr int kVectors = kTile / 16;
  const __m512 neg_inf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  __m512 v[kVectors];
  __m512 m = neg_inf;
  for (int i = 0; i < kVectors; ++i) {
    const int64_t seen = std::clamp<int64_t>(visible - 16 * i, 0, 16);
    v[i] = _mm512_mask_load_ps(neg_inf, static_cast<__mmask16>((1u << seen) - 1), s + 16 * i);
    m = _mm512_max_ps(m, v[i]);
  }
  const float rescale = raise_max(_mm512_reduce_max_ps(m), max, acc, hd);
  const __m512 shift = _mm512_set1_ps(*max);
  __m256 total = _mm256_setzero_ps();
  for (int i = 0; i < kVectors; ++i) {
    const __m512 p = exp2_avx512(_mm512_sub_ps(v[i], shift));  // 0 where not visible
    _mm512_store_ps(s + 16 * i, p);
    total = _mm256_add_ps(total, _mm512_castps512_ps256(p));
    total = _mm256_add_ps(total, _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(p), 1)));
  }
  *sum = *sum * rescale + hsum(total);
}

}  // namespace
}  // namespace llmbatch
