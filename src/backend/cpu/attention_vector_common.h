// The parts the vector attention kernel's three forms share
// (attention_avx2.cpp): target attributes, block shapes, the switch from a
// row count to the block templates, where K and V words lie, and the
// prefetch of the next tile's lines.
//
// Part of attention_avx2.cpp, which alone includes it (and its other parts,
// attention_fma_blocks.h and attention_dot_blocks.h, through this one): its
// contents live in that file's anonymous namespace.

#pragma once

#ifndef LLMBATCH_ATTENTION_VECTOR_KERNEL
#error "a part of attention_avx2.cpp, for it alone to include"
#endif

#include <algorithm>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

#include "backend/cpu/attention.h"
#include "backend/cpu/simd.h"
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

// The cache lines of the blocks asked for during a tile (the next tile's,
// and a share of the item's last tile's: attend()), K and V of the item's
// heads, handed to the current tile's score blocks a share at a time, which
// ask for them a few per dim or pair of dims: a burst of hundreds of
// prefetches fills the load queue and stalls the arithmetic until memory
// has served them, so reading the KV and computing on it would take turns
// instead of overlapping. They go to L2 (T1): with smollm's 3 KV heads a
// tile is 48 KiB, and the next one in L1 would evict the current one. A
// block larger than a tile is asked for whole, once per tile.
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

  std::vector<const char*> runs_;  // per block asked for: its K run, its V run
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

// A block's scores s[r * kTile + j + 16 g ..] = acc[r][g], R rows of G
// vectors of 16 keys (wide and dot score blocks).
template <int R, int G>
LLMBATCH_AVX512 inline void store_scores(const __m512 (&acc)[R][G], float* s, int64_t j) {
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

}  // namespace
}  // namespace llmbatch
