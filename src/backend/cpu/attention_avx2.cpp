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
#include "backend/cpu/simd.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <span>
#include <type_traits>
#include <vector>

#include "backend/cpu/attention_kernels.h"
#include "backend/cpu/bf16_pairs.h"
#include "backend/cpu/cpu_features.h"
#include "backend/cpu/simd_exp.h"
#include "core/error.h"
#include "kv/block_table.h"
#include "kv/kv_storage.h"

namespace llmbatch {
namespace {

#define LLMBATCH_AVX2 __attribute__((target("avx2,fma")))
#define LLMBATCH_AVX512 __attribute__((target("avx2,fma,avx512f")))
#define LLMBATCH_AVX512_BF16 __attribute__((target("avx2,fma,avx512f,avx512bf16")))
// The loops over a block's rows and vectors are unrolled before GCC 12
// decides where the accumulators live: unrolled later, an array of 10-12 of
// them stays in memory and every FMA is followed by a store (half speed).
#define LLMBATCH_UNROLL _Pragma("GCC unroll 16")

constexpr int64_t kTile = kAttentionTile;
constexpr int kRows = 6;        // rows of a score or value block: 12 accumulators of 16 registers

// f.template operator()<R>() for R = n rows of a block, 1 <= n <= kRows:
// the one switch from a row count to the block templates.
template <typename F>
inline void with_rows(int64_t n, F&& f) {
  static_assert(kRows == 6);
  switch (n) {
    case 1: return f.template operator()<1>();
    case 2: return f.template operator()<2>();
    case 3: return f.template operator()<3>();
    case 4: return f.template operator()<4>();
    case 5: return f.template operator()<5>();
    default: return f.template operator()<6>();
  }
}
// Keys of an AVX2 score block (two vectors), and the unit a cluster's keys
// round up to (wide score blocks take 16, 32 or 64).
constexpr int64_t kKeys = 16;
static_assert(kTile % kKeys == 0);

// The kernel's three forms: AVX2 (8 lanes), wide (AVX-512, 16 lanes, the
// same bits) and dot (AVX-512 BF16 dot products, bits of its own).
enum class Form { Narrow, Wide, Dot };

// How many score_block calls score_rows (or, wide and dot, score_rows_wide)
// makes.
int64_t score_blocks_of(int64_t rows, int64_t keys, Form form) {
  if (form != Form::Narrow) return keys / 64 + keys % 64 / 32 + keys % 32 / 16;
  return rows <= 3 ? keys / 32 + keys % 32 / 16 : keys / 16;
}

// Next-tile lines a wide score block asks for per dim at most.
constexpr int kWideLinesPerDim = 2;

// Keys that must lie side by side in the cache for one K load.
int64_t keys_per_load(Form form) { return form == Form::Narrow ? 8 : 16; }

// The cache in 32-bit words (kv_storage.h): T's values to a word, 2 bf16
// or 1 f32. K: a key's dims 2i and 2i + 1 are "pair" i, pair_stride
// elements from pair i - 1 (2 * block_size, or 2 * kTile in a gathered
// tile). V: a token's dims lie word_values<T>() elements apart (bf16: the
// other token of the word between them; a tile with a block size of 1 is
// gathered into words first).
template <typename T>
constexpr int64_t word_values() {
  return kv_word_values(std::is_same_v<T, float> ? DType::F32 : DType::BF16);
}

// Dim 2i + Half of 8 keys as f32, from their pair i.
template <int Half>
LLMBATCH_AVX2 inline __m256 key_dims(const float* pair, int64_t pair_stride) {
  return _mm256_loadu_ps(pair + Half * pair_stride / 2);
}

template <int Half>
LLMBATCH_AVX2 inline __m256 key_dims(const uint16_t* pair, int64_t /*pair_stride*/) {
  const __m256i words = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pair));
  if constexpr (Half == 0) return _mm256_castsi256_ps(_mm256_slli_epi32(words, 16));
  return _mm256_castsi256_ps(_mm256_and_si256(words, _mm256_set1_epi32(static_cast<int>(0xFFFF0000u))));
}

// 8 dims of a token's value as f32, in dim order, from its first: bf16
// takes the low half of 8 words read from the token's own value on (for the
// second token of a word, the next word's first token fills the high half:
// the read runs one value past the dims, which the storage's tail allows).
LLMBATCH_AVX2 inline __m256 value_dims(const float* v) { return _mm256_loadu_ps(v); }

LLMBATCH_AVX2 inline __m256 value_dims(const uint16_t* v) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(v)), 16));
}

LLMBATCH_AVX2 inline float hsum(__m256 a) {
  __m128 m = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));  // lanes i + (i + 4)
  m = _mm_add_ps(m, _mm_movehl_ps(m, m));                                          // + (i + 2)
  return _mm_cvtss_f32(_mm_add_ss(m, _mm_movehdup_ps(m)));                          // + (i + 1)
}

LLMBATCH_AVX2 inline float hmax(__m256 a) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
}

// The cache lines of the next tile's blocks (K and V of the item's heads),
// handed to the current tile's score blocks a share at a time, which ask
// for them a few per dim or pair of dims: a burst of hundreds of prefetches fills the load
// queue and stalls the arithmetic until memory has served them, so reading
// the KV and computing on it would take turns instead of overlapping. They
// go to L2 (T1): with smollm's 3 KV heads a tile is 48 KiB, and the next one
// in L1 would evict the current one. A block larger than a tile is asked for
// whole, once per tile.
class NextTileLines {
 public:
  // `lines` lines from line `line` of run `run` on, across runs.
  struct Share {
    const char* const* runs;
    int64_t run_lines, run, line, lines;
  };

  template <typename T>
  void plan(std::span<const BlockId> blocks, const AttentionShape& s, int64_t first_head, int64_t heads,
            const T* k_cache, const T* v_cache) {
    runs_.clear();
    for (const BlockId block : blocks) {
      const int64_t run = kv_head_run(block, s.block_size, s.num_kv_heads, s.head_dim, first_head);
      runs_.push_back(reinterpret_cast<const char*>(k_cache + run));
      runs_.push_back(reinterpret_cast<const char*>(v_cache + run));
    }
    run_lines_ = (heads * s.block_size * s.head_dim * static_cast<int64_t>(sizeof(T)) + 63) / 64;
    next_ = run_ = line_ = 0;
  }

  // Spreads the lines over `calls` shares of at most `most` lines.
  void spread(int64_t calls, int64_t most) {
    share_ = std::min(most, (total() + calls - 1) / std::max<int64_t>(calls, 1));
  }

  // The next share; empty once all were taken.
  Share take() {
    const int64_t n = std::min(share_, total() - next_);
    const Share out{runs_.data(), run_lines_, run_, line_, n};
    advance(n);
    return out;
  }

  // The lines no share took (thousands where a tile's score blocks are few
  // and the next tile's blocks many: a decode step's last tile, forks' own
  // blocks).
  LLMBATCH_AVX2 void finish() {
    while (next_ < total()) {
      _mm_prefetch(runs_[run_] + 64 * line_, _MM_HINT_T1);
      advance(1);
    }
  }

 private:
  int64_t total() const { return std::ssize(runs_) * run_lines_; }

  // Moves the cursor n lines on, without dividing (a division per share
  // or per line showed in profiles).
  void advance(int64_t n) {
    next_ += n;
    for (line_ += n; line_ >= run_lines_ && run_lines_ > 0; line_ -= run_lines_) ++run_;
  }

  std::vector<const char*> runs_;  // per block of the next tile: its K run, its V run
  int64_t run_lines_ = 0, share_ = 0;
  int64_t next_ = 0, run_ = 0, line_ = 0;  // the first line not handed out: of all, and where
};

// Asks for the share's next line, into L2.
inline void ask_next_line(NextTileLines::Share& share) {
  _mm_prefetch(share.runs[share.run] + 64 * share.line, _MM_HINT_T1);
  if (++share.line == share.run_lines) {
    share.line = 0;
    ++share.run;
  }
}

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
// of each of G groups, group g's pair 0 at k[g] (see value_step). One FMA
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
  LLMBATCH_UNROLL
  for (int r = 0; r < R; ++r) {
    LLMBATCH_UNROLL
    for (int g = 0; g < G; ++g) _mm512_storeu_ps(s + r * kTile + j + 16 * g, acc[r][g]);
  }
}

// Dims [c, c + 16 W) of R rows of accumulators, to registers and back.
template <int R, int W>
LLMBATCH_AVX512 inline void load_rows(float* const* acc, int64_t c, __m512 (&a)[R][W]) {
  LLMBATCH_UNROLL
  for (int r = 0; r < R; ++r) {
    LLMBATCH_UNROLL
    for (int w = 0; w < W; ++w) a[r][w] = _mm512_loadu_ps(acc[r] + c + 16 * w);
  }
}

template <int R, int W>
LLMBATCH_AVX512 inline void store_rows(float* const* acc, int64_t c, const __m512 (&a)[R][W]) {
  LLMBATCH_UNROLL
  for (int r = 0; r < R; ++r) {
    LLMBATCH_UNROLL
    for (int w = 0; w < W; ++w) _mm512_storeu_ps(acc[r] + c + 16 * w, a[r][w]);
  }
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

// ---- the bf16 dot-product blocks (Form::Dot) -----------------------------
//
// q rounded to bf16 (row_to_bf16_pairs) and the softmax weights p too
// (softmax_rows_dot), K and V bf16 from the cache: one VDPBF16PS adds a
// pair of products to each of 16 lanes. Scores: lane = key, the pair = 2 dims of the key's word, a chain
// over the pairs of dims. Values: lane = dim, the pair = 2 tokens of V's
// word, a chain over the pairs of keys in order. 2 multiply-adds per lane
// and instruction where the f32 forms do 1.

// Prefetch lines a dot block asks for per pair of dims at most.
constexpr int kDotLinesPerPair = 2 * kWideLinesPerDim;

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
  for (int64_t i = 0, ask = prefetch.lines; i < hd / 2; ++i) {
    for (int l = 0; l < kDotLinesPerPair && ask > 0; ++l, --ask) ask_next_line(prefetch);
    add_score_pair(q, pairs, i * pair_stride, i, acc);
  }
}

template <int R, int G>
LLMBATCH_AVX512_BF16 inline void store_scores(const __m512 (&acc)[R][G], float* s, int64_t j) {
  LLMBATCH_UNROLL
  for (int r = 0; r < R; ++r) {
    LLMBATCH_UNROLL
    for (int g = 0; g < G; ++g) _mm512_storeu_ps(s + r * kTile + j + 16 * g, acc[r][g]);
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
  int64_t ask[H];
  LLMBATCH_UNROLL
  for (int h = 0; h < H; ++h) {
    ask[h] = prefetch[h].lines;
    LLMBATCH_UNROLL
    for (int n = 0; n < N; ++n) {
      LLMBATCH_UNROLL
      for (int g = 0; g < G; ++g) acc[h][n][g] = _mm512_setzero_ps();
    }
  }
  for (int64_t i = 0; i < hd / 2; ++i) {
    LLMBATCH_UNROLL
    for (int h = 0; h < H; ++h) {
      for (int l = 0; l < kDotLinesPerPair && ask[h] > 0; ++l, --ask[h]) ask_next_line(prefetch[h]);
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
  const __m512i high = _mm512_set1_epi32(static_cast<int>(0xFFFF0000u));
  for (int64_t r = 0; r < n; ++r) {
    const __m512 shift = _mm512_set1_ps(new_max[r]);
    __m512 total = _mm512_load_ps(sum16[r]);
    // Only the pairs of vectors that hold visible keys: the value blocks read
    // no word past the last visible key's, and the others would add zeros.
    for (int i = 0; i < kVectors && 16 * i < visible[r]; i += 2) {
      const __m512 low = _mm512_mask_load_ps(neg_inf, static_cast<__mmask16>(seen[r] >> (16 * i)), s[r] + 16 * i);
      const __m512 next =
          _mm512_mask_load_ps(neg_inf, static_cast<__mmask16>(seen[r] >> (16 * i + 16)), s[r] + 16 * i + 16);
      // 0 where not visible.
      const __m512i words = (__m512i)_mm512_cvtne2ps_pbh(exp2_bf16_avx512(_mm512_sub_ps(next, shift)),
                                                         exp2_bf16_avx512(_mm512_sub_ps(low, shift)));
      _mm512_storeu_si512(p_words + r * kTile / 2 + 8 * i, words);
      total = _mm512_add_ps(total, _mm512_castsi512_ps(_mm512_slli_epi32(words, 16)));
      total = _mm512_add_ps(total, _mm512_castsi512_ps(_mm512_and_si512(words, high)));
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
// exact in any order). Else the scores go to `scores` (row r at r * kTile)
// and softmax_rows_dot takes the block, as it does a NaN score.
template <int R>
LLMBATCH_AVX512_BF16 void softmax_tile_dot(const __m512 (&acc)[R][kTile / 16], float* scores, const float* const* s,
                                           const int64_t* visible, float* const* max, float* const* sum16,
                                           float* const* out_acc, int64_t hd, uint32_t* p_words) {
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
    return softmax_rows_dot(R, s, visible, max, sum16, out_acc, hd, p_words);
  }
  const __m512i high = _mm512_set1_epi32(static_cast<int>(0xFFFF0000u));
  LLMBATCH_UNROLL
  for (int r = 0; r < R; ++r) {
    *max[r] = reference[r];
    const __m512 shift = _mm512_set1_ps(reference[r]);
    __m512 total = _mm512_load_ps(sum16[r]);
    LLMBATCH_UNROLL
    for (int i = 0; i < 4; i += 2) {
      const __m512i words = (__m512i)_mm512_cvtne2ps_pbh(exp2_bf16_avx512(_mm512_sub_ps(acc[r][i + 1], shift)),
                                                         exp2_bf16_avx512(_mm512_sub_ps(acc[r][i], shift)));
      _mm512_storeu_si512(p_words + r * kTile / 2 + 8 * i, words);
      total = _mm512_add_ps(total, _mm512_castsi512_ps(_mm512_slli_epi32(words, 16)));
      total = _mm512_add_ps(total, _mm512_castsi512_ps(_mm512_and_si512(words, high)));
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
                                                 float* scores, const float* const* s, const int64_t* visible,
                                                 float* const* max, float* const* sum16, float* const* out_acc,
                                                 uint32_t* p_words) {
  __m512 acc[R][kTile / 16];
  score_chains_dot(q, k, pair_stride, hd, prefetch, acc);
  softmax_tile_dot(acc, scores, s, visible, max, sum16, out_acc, hd, p_words);
}

// A dot-form row's sum: its 16 lanes added in a fixed order.
LLMBATCH_AVX512 float lanes_sum(const float* sum16) { return _mm512_reduce_add_ps(_mm512_load_ps(sum16)); }

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

// One tile of an item, for its first KV head (another head's K and V runs
// lie head_stride elements further on).
template <typename T>
struct TilePlan {
  std::vector<Cluster> clusters;
  std::vector<int64_t> rows, visible;  // the rows that see the tile, and how many of its keys each sees
  std::vector<const T*> keys;          // per key: its first word (pair 0), pair i at + i * 2 * block_size
  std::vector<const T*> values;        // per key: its value's dim 0 (its dims v_tokens_per_word() apart)
  std::vector<BlockId> blocks;         // the blocks read, for the prefetch
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
    const int64_t first = seq.start_position + piece.token_begin, last = seq.start_position + piece.token_end - 1;
    const int64_t piece_rows = (piece.token_end - piece.token_begin) * group;
    if (last < tile_begin) {
      row += piece_rows;
      continue;
    }
    const std::span<const BlockId> blocks =
        seq.block_table.subspan(first_block, (std::min(tile_begin + kTile, last + 1) - 1) / bs + 1 - first_block);
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
    const AttentionSequence& seq = *piece.sequence;
    const int64_t seen = std::min(tile_begin + kTile, seq.start_position + piece.token_end);
    if (seen <= tile_begin) continue;
    const int64_t first = tile_begin / block_size;
    const std::span<const BlockId> blocks =
        seq.block_table.subspan(first, (seen + block_size - 1) / block_size - first);
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
              score_softmax_tile_dot<R>(b.q_words, groups, stride, hd, prefetch.take(), scores, b.p, visible, max,
                                        sum16, b.acc, p_words);
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
  // whole item's arithmetic rather than the last tile's but one.
  thread_local std::vector<BlockId> last_blocks, asked;
  const int64_t tiles = last_position / kTile + 1;
  tile_blocks(item, (tiles - 1) * kTile, s.block_size, &last_blocks);
  plan_tile(s, item, w.position, k_cache, v_cache, 0, form, &plans[0]);
  for (int64_t tile_begin = 0, t = 0; tile_begin <= last_position; tile_begin += kTile, t ^= 1) {
    const TilePlan<T>& plan = plans[t];
    plans[t ^ 1].clear();
    if (tile_begin + kTile <= last_position) {
      plan_tile(s, item, w.position, k_cache, v_cache, tile_begin + kTile, form, &plans[t ^ 1]);
      asked = plans[t ^ 1].blocks;
      if (const int64_t tile = tile_begin / kTile, shares = tiles - 2; tile < shares) {
        const int64_t n = std::ssize(last_blocks);
        asked.insert(asked.end(), last_blocks.begin() + n * tile / shares, last_blocks.begin() + n * (tile + 1) / shares);
      }
      prefetch.plan(asked, s, item.kv_head_begin, heads, k_cache, v_cache);
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
