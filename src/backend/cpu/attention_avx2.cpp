// The AVX2 + FMA attention kernel. Per key tile (kAttentionTile positions,
// aligned to absolute positions) of one work item:
//   scores  s[r][j] = q_r · k_j, for 3 query rows × 4 keys at a time, read
//           straight from the paged cache;
//   softmax per row: tile max, p_j = 2^(s_j - max) with simd_exp.h's exp2
//           (q is pre-scaled by log2(e) / sqrt(head_dim)), running sum;
//   values  acc[r] += p[r][j] * v_j, for up to 4 rows × 16-64 dims at a time.
// A row is (query token, query head); its numbers never meet another row's,
// so blocking rows and keys changes speed, not bits. Every reduction is a
// fixed function of head_dim and the position: a dot product is an FMA
// chain per lane over the dims, then the same lane tree for every key; the
// softmax sums a tile lane-wise by its position in the tile.
//
// bf16 rows are widened in registers in "split" order: one 32-byte load of
// 16 values, the even dims shifted into one vector and the odd dims masked
// into another. q and the accumulators are kept in the same order and put
// back in dim order at the end.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <span>
#include <type_traits>
#include <vector>

#include "backend/cpu/attention_kernels.h"
#include "backend/cpu/cpu_features.h"
#include "backend/cpu/simd_exp.h"
#include "core/error.h"
#include "kv/block_table.h"
#include "kv/kv_storage.h"

namespace llmbatch {
namespace {

#define LLMBATCH_AVX2 __attribute__((target("avx2,fma")))

constexpr int64_t kTile = kAttentionTile;
constexpr int kScoreRows = 3;  // rows × keys of a score block: 12 accumulators of 16 registers
constexpr int kKeys = 4;
static_assert(kTile % kKeys == 0 && kTile % 8 == 0);

// 16 consecutive dims as two vectors: f32 in dim order, bf16 in split order.
LLMBATCH_AVX2 inline void load16(const float* p, __m256* a, __m256* b) {
  *a = _mm256_loadu_ps(p);
  *b = _mm256_loadu_ps(p + 8);
}

LLMBATCH_AVX2 inline void load16(const uint16_t* p, __m256* a, __m256* b) {
  const __m256i pairs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  *a = _mm256_castsi256_ps(_mm256_slli_epi32(pairs, 16));                                         // dims 0, 2, .., 14
  *b = _mm256_castsi256_ps(_mm256_and_si256(pairs, _mm256_set1_epi32(static_cast<int>(0xFFFF0000u))));  // 1, 3, .., 15
}

// Where dim d lives in a row kept in T's load16 order.
template <typename T>
int64_t lane_of(int64_t d) {
  if constexpr (std::is_same_v<T, float>) {
    return d;
  } else {
    const int64_t i = d % 16;
    return d - i + (i % 2) * 8 + i / 2;
  }
}

// [sum(a), sum(b), sum(c), sum(d)], each as ((x0+x2)+(x1+x3)) + ((x4+x6)+(x5+x7)).
LLMBATCH_AVX2 inline __m128 hsum4(__m256 a, __m256 b, __m256 c, __m256 d) {
  const __m256 ab = _mm256_add_ps(_mm256_unpacklo_ps(a, b), _mm256_unpackhi_ps(a, b));  // a0+a2 b0+b2 a1+a3 b1+b3 | ..
  const __m256 cd = _mm256_add_ps(_mm256_unpacklo_ps(c, d), _mm256_unpackhi_ps(c, d));
  const __m256 abcd = _mm256_add_ps(_mm256_shuffle_ps(ab, cd, _MM_SHUFFLE(1, 0, 1, 0)),
                                    _mm256_shuffle_ps(ab, cd, _MM_SHUFFLE(3, 2, 3, 2)));  // a0123 b0123 c0123 d0123 | ..
  return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}

LLMBATCH_AVX2 inline float hsum(__m256 a) { return _mm_cvtss_f32(hsum4(a, a, a, a)); }

LLMBATCH_AVX2 inline float hmax(__m256 a) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
}

// s[r][j] = q_r · keys[j][shift ..] for R rows, kKeys keys. q: [R][hd]
// split order; s: row stride kTile.
template <int R, typename T>
LLMBATCH_AVX2 void score_block(const float* q, const T* const* keys, int64_t shift, int64_t hd, float* s) {
  __m256 acc[R][kKeys];
  for (auto& row : acc) {
    for (auto& a : row) a = _mm256_setzero_ps();
  }
  for (int64_t c = 0; c < hd; c += 16) {
    for (int j = 0; j < kKeys; ++j) {
      __m256 k0, k1;
      load16(keys[j] + shift + c, &k0, &k1);
      for (int r = 0; r < R; ++r) {
        acc[r][j] = _mm256_fmadd_ps(_mm256_loadu_ps(q + r * hd + c), k0, acc[r][j]);
        acc[r][j] = _mm256_fmadd_ps(_mm256_loadu_ps(q + r * hd + c + 8), k1, acc[r][j]);
      }
    }
  }
  for (int r = 0; r < R; ++r) _mm_storeu_ps(s + r * kTile, hsum4(acc[r][0], acc[r][1], acc[r][2], acc[r][3]));
}

// acc[r] += p[r][j] * values[j][shift ..] for j in [j_begin, j_end), in
// order, for R rows, 16 * W dims at a time. p: row stride kTile; acc: [R][hd]
// split order.
template <int R, int W, typename T>
LLMBATCH_AVX2 void value_block(const float* p, const T* const* values, int64_t shift, int64_t j_begin, int64_t j_end,
                               int64_t hd, float* acc) {
  for (int64_t c = 0; c < hd; c += 16 * W) {
    __m256 a[R][2 * W];
    for (int r = 0; r < R; ++r) {
      for (int i = 0; i < 2 * W; ++i) a[r][i] = _mm256_loadu_ps(acc + r * hd + c + 8 * i);
    }
    for (int64_t j = j_begin; j < j_end; ++j) {
      for (int w = 0; w < W; ++w) {
        __m256 v0, v1;
        load16(values[j] + shift + c + 16 * w, &v0, &v1);
        for (int r = 0; r < R; ++r) {
          const __m256 pj = _mm256_broadcast_ss(p + r * kTile + j);
          a[r][2 * w] = _mm256_fmadd_ps(pj, v0, a[r][2 * w]);
          a[r][2 * w + 1] = _mm256_fmadd_ps(pj, v1, a[r][2 * w + 1]);
        }
      }
    }
    for (int r = 0; r < R; ++r) {
      for (int i = 0; i < 2 * W; ++i) _mm256_storeu_ps(acc + r * hd + c + 8 * i, a[r][i]);
    }
  }
}

// value_block for R rows with the widest W that divides head_dim and keeps
// the accumulators at 8 (8 independent FMA chains hide the FMA latency).
template <int R, typename T>
LLMBATCH_AVX2 void value_rows(const float* p, const T* const* values, int64_t shift, int64_t j_begin, int64_t j_end,
                              int64_t hd, float* acc) {
  constexpr int kWidest = 4 / R > 0 ? 4 / R : 1;
  if (kWidest >= 4 && hd % 64 == 0) {
    value_block<R, kWidest>(p, values, shift, j_begin, j_end, hd, acc);
  } else if (kWidest >= 2 && hd % 32 == 0) {
    value_block<R, std::min(kWidest, 2)>(p, values, shift, j_begin, j_end, hd, acc);
  } else {
    value_block<R, 1>(p, values, shift, j_begin, j_end, hd, acc);
  }
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
  const float tile_max = hmax(m);
  float rescale = 1.0f;
  if (tile_max > *max) {
    rescale = _mm256_cvtss_f32(exp2_avx2(_mm256_set1_ps(*max - tile_max)));  // 0 on the first tile
    *max = tile_max;
    const __m256 r = _mm256_set1_ps(rescale);
    for (int64_t d = 0; d < hd; d += 8) _mm256_store_ps(acc + d, _mm256_mul_ps(r, _mm256_load_ps(acc + d)));
  }
  const __m256 shift = _mm256_set1_ps(*max);
  __m256 total = _mm256_setzero_ps();
  for (int i = 0; i < kVectors; ++i) {
    const __m256 p = exp2_avx2(_mm256_sub_ps(v[i], shift));  // 0 where not visible
    _mm256_store_ps(s + 8 * i, p);
    total = _mm256_add_ps(total, p);
  }
  *sum = *sum * rescale + hsum(total);
}

// Per-thread buffers, grown to the largest item seen; the float rows start
// 64-byte aligned.
struct Scratch {
  std::vector<float> q, acc, scores;  // q, acc: [heads][rows][hd] split order; scores: [rows][kTile]
  std::vector<float> max, sum;        // [heads][rows]
  std::vector<int64_t> visible;       // [rows]
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

// The cache rows of one KV head at a tile's positions; keys padded to a
// multiple of kKeys with the last row (scores computed, never used).
template <typename T>
struct TileRows {
  std::array<const T*, kTile> keys, values;
  int64_t n = 0;
};

template <typename T>
void locate_rows(const AttentionShape& s, std::span<const BlockId> table, const T* k_cache, const T* v_cache,
                 int64_t kv_head, int64_t tile_begin, int64_t n, TileRows<T>* rows) {
  // A head's rows of one block are consecutive: one table lookup per block.
  for (int64_t j = 0; j < n;) {
    const int64_t pos = tile_begin + j, in_block = pos % s.block_size;
    const int64_t run = std::min(n - j, s.block_size - in_block);
    const int64_t offset = kv_row(kv_slot(table, s.block_size, pos), s.block_size, s.num_kv_heads, s.head_dim, kv_head);
    for (int64_t i = 0; i < run; ++i, ++j) {
      rows->keys[j] = k_cache + offset + i * s.head_dim;
      rows->values[j] = v_cache + offset + i * s.head_dim;
    }
  }
  std::fill(rows->keys.begin() + n, rows->keys.begin() + (n + kKeys - 1) / kKeys * kKeys, rows->keys[n - 1]);
  rows->n = n;
}

// The next tile's cache lines (keys and values of every head of the item),
// asked for a few at a time between the current tile's score blocks: a
// burst of hundreds of prefetches fills the load queue and stalls the
// arithmetic until memory has served them, so reading the KV and computing
// on it would take turns instead of overlapping. They go to L2 (T1): with
// smollm's 3 KV heads a tile is 48 KiB, and the next one in L1 would evict
// the current one.
template <typename T>
class TilePrefetch {
 public:
  TilePrefetch(const TileRows<T>& rows, int64_t heads, int64_t head_stride, int64_t hd, int64_t calls)
      : rows_(rows), heads_(rows.n > 0 ? heads : 0), head_stride_(head_stride),
        lines_per_row_((hd * static_cast<int64_t>(sizeof(T)) + 63) / 64),
        per_call_((heads * rows.n * lines_per_row_ + calls - 1) / calls) {}

  // Asks for the next share of lines (key and value rows by head, then
  // position); nothing once all have been asked for.
  LLMBATCH_AVX2 void step() {
    for (int64_t i = 0; i < per_call_ && head_ < heads_; ++i) {
      const int64_t offset = head_ * head_stride_;
      _mm_prefetch(reinterpret_cast<const char*>(rows_.keys[j_] + offset) + 64 * line_, _MM_HINT_T1);
      _mm_prefetch(reinterpret_cast<const char*>(rows_.values[j_] + offset) + 64 * line_, _MM_HINT_T1);
      if (++line_ < lines_per_row_) continue;
      line_ = 0;
      if (++j_ < rows_.n) continue;
      j_ = 0;
      ++head_;
    }
  }

 private:
  const TileRows<T>& rows_;
  int64_t heads_, head_stride_, lines_per_row_, per_call_;
  int64_t head_ = 0, j_ = 0, line_ = 0;
};

template <typename T>
LLMBATCH_AVX2 void attend(const AttentionShape& s, const AttentionItem& item, const float* q, const T* k_cache,
                          const T* v_cache, float* out) {
  const AttentionSequence& seq = *item.sequence;
  const int64_t hd = s.head_dim, group = s.num_heads / s.num_kv_heads, row_stride = s.num_heads * hd;
  const int64_t heads = item.kv_head_end - item.kv_head_begin;
  const int64_t rows = (item.token_end - item.token_begin) * group;  // per KV head; row t * group + g: token t, head g
  const int64_t first_position = seq.start_position + item.token_begin;
  const int64_t last_position = seq.start_position + item.token_end - 1;
  // Rows are located for the item's first KV head; another head's rows of
  // the same block lie head_stride elements further on.
  const int64_t head_stride =
      kv_row(0, s.block_size, s.num_kv_heads, hd, 1) - kv_row(0, s.block_size, s.num_kv_heads, hd, 0);
  auto row_offset = [&](int64_t h, int64_t r) {
    return (seq.first_row + item.token_begin + r / group) * row_stride +
           ((item.kv_head_begin + h) * group + r % group) * hd;
  };

  // Per KV head h of the item: q, acc: [rows][hd] at h * rows * hd; max, sum: [rows] at h * rows.
  Scratch& w = scratch();
  float* const qs = aligned_floats(w.q, heads * rows * hd);
  float* const acc = aligned_floats(w.acc, heads * rows * hd);
  float* const scores = aligned_floats(w.scores, rows * kTile);
  std::fill_n(acc, heads * rows * hd, 0.0f);
  w.max.assign(heads * rows, -std::numeric_limits<float>::infinity());
  w.sum.assign(heads * rows, 0.0f);
  w.visible.resize(rows);
  const float q_scale = static_cast<float>(std::numbers::log2e / std::sqrt(static_cast<double>(hd)));
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t r = 0; r < rows; ++r) {
      const float* src = q + row_offset(h, r);
      for (int64_t d = 0; d < hd; ++d) qs[(h * rows + r) * hd + lane_of<T>(d)] = src[d] * q_scale;
    }
  }

  // Tile i's rows are located, and their cache lines asked for, while tile
  // i - 1 is computed: a decode step reads each key and value once, from
  // memory rather than cache. The item's heads take each tile in turn, so
  // the reads of a block's heads come close together.
  const int64_t first_head = item.kv_head_begin;
  TileRows<T> tiles[2];
  locate_rows(s, seq.block_table, k_cache, v_cache, first_head, 0, std::min(kTile, last_position + 1), &tiles[0]);
  for (int64_t tile_begin = 0, t = 0; tile_begin <= last_position; tile_begin += kTile, t ^= 1) {
    const int64_t tile_n = tiles[t].n, next_begin = tile_begin + kTile;
    tiles[t ^ 1].n = 0;
    if (next_begin <= last_position) {
      locate_rows(s, seq.block_table, k_cache, v_cache, first_head, next_begin,
                  std::min(kTile, last_position + 1 - next_begin), &tiles[t ^ 1]);
    }
    const auto& keys = tiles[t].keys;
    const auto& values = tiles[t].values;
    const int64_t padded_n = (tile_n + kKeys - 1) / kKeys * kKeys;
    // Tokens before the tile's first position see none of it.
    const int64_t first_row = std::max<int64_t>(0, tile_begin - first_position) * group;
    const int64_t score_calls = heads * ((rows - first_row + kScoreRows - 1) / kScoreRows) * (padded_n / kKeys);
    TilePrefetch<T> prefetch(tiles[t ^ 1], heads, head_stride, hd, score_calls);
    for (int64_t r = first_row; r < rows; ++r) {
      w.visible[r] = std::min(tile_n, first_position + r / group + 1 - tile_begin);
    }

    for (int64_t h = 0; h < heads; ++h) {
      const int64_t shift = h * head_stride;
      const float* const qh = qs + h * rows * hd;
      float* const acc_h = acc + h * rows * hd;
      for (int64_t r = first_row; r < rows; r += kScoreRows) {
        const int64_t n = std::min<int64_t>(kScoreRows, rows - r);
        for (int64_t j = 0; j < padded_n; j += kKeys) {
          prefetch.step();
          const float* qr = qh + r * hd;
          float* sr = scores + r * kTile + j;
          if (n == 3) score_block<3>(qr, keys.data() + j, shift, hd, sr);
          if (n == 2) score_block<2>(qr, keys.data() + j, shift, hd, sr);
          if (n == 1) score_block<1>(qr, keys.data() + j, shift, hd, sr);
        }
      }
      for (int64_t r = first_row; r < rows; ++r) {
        softmax_step(scores + r * kTile, w.visible[r], &w.max[h * rows + r], &w.sum[h * rows + r], acc_h + r * hd, hd);
      }
      // Rows of a block share the keys all of them see; on the diagonal tile
      // the later tokens' extra keys follow one row at a time, in order.
      for (int64_t r = first_row; r < rows; r += 4) {
        const int64_t n = std::min<int64_t>(4, rows - r);
        const int64_t shared = *std::min_element(w.visible.begin() + r, w.visible.begin() + r + n);
        const float* pr = scores + r * kTile;
        float* ar = acc_h + r * hd;
        if (n == 4) value_rows<4>(pr, values.data(), shift, 0, shared, hd, ar);
        if (n == 3) value_rows<3>(pr, values.data(), shift, 0, shared, hd, ar);
        if (n == 2) value_rows<2>(pr, values.data(), shift, 0, shared, hd, ar);
        if (n == 1) value_rows<1>(pr, values.data(), shift, 0, shared, hd, ar);
        for (int64_t i = 0; i < n; ++i) {
          if (w.visible[r + i] > shared) {
            value_rows<1>(pr + i * kTile, values.data(), shift, shared, w.visible[r + i], hd, ar + i * hd);
          }
        }
      }
    }
  }
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t r = 0; r < rows; ++r) {
      const float inv = 1.0f / w.sum[h * rows + r];
      float* dst = out + row_offset(h, r);
      for (int64_t d = 0; d < hd; ++d) dst[d] = acc[(h * rows + r) * hd + lane_of<T>(d)] * inv;
    }
  }
}

}  // namespace

bool attend_avx2_supports(const AttentionShape& shape) {
  return cpu_supports_avx2_fma() && shape.head_dim % 16 == 0 &&
         (shape.kv_dtype == DType::BF16 || shape.kv_dtype == DType::F32);
}

void attend_avx2(const AttentionShape& shape, const AttentionItem& item, const float* q, const void* k_cache,
                 const void* v_cache, float* out) {
  LLMBATCH_CHECK(attend_avx2_supports(shape), "attend_avx2 needs AVX2, FMA, head_dim % 16 == 0 and bf16/f32 KV");
  if (shape.kv_dtype == DType::F32) {
    attend(shape, item, q, static_cast<const float*>(k_cache), static_cast<const float*>(v_cache), out);
  } else {
    attend(shape, item, q, static_cast<const uint16_t*>(k_cache), static_cast<const uint16_t*>(v_cache), out);
  }
}

}  // namespace llmbatch
