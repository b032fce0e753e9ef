#include "backend/cpu/linear.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

#include "backend/cpu/bf16_pairs.h"
#include "backend/cpu/cpu_features.h"
#include "backend/cpu/simd.h"
#include "core/dtype.h"
#include "core/error.h"

namespace llmbatch {
namespace {

// Rows per register tile of the AVX2 kernel: 6 rows × 16 columns is 12
// accumulators, plus 2 weight vectors and a broadcast = 15 of the 16 ymm
// registers. More rows would spill.
constexpr int kTileRows = 6;
// Of the AVX-512 BF16 kernel: one zmm accumulator per row; 12 rows keep the
// two dot-product pipes busy through the instruction's latency and leave
// registers for the weights and broadcasts.
constexpr int kTileRowsBf16 = 12;

int tile_rows(LinearKernel kernel) { return kernel == LinearKernel::Avx512Bf16 ? kTileRowsBf16 : kTileRows; }

// Tile t of a block of n rows cut into tiles of at most `most` rows:
// ceil(n / most) tiles of as equal a size as possible: 7 rows as 4 + 3
// rather than 6 + 1 (6-row tiles), 13 as 7 + 6 rather than 12 + 1 (12-row).
// A tile of R rows keeps only a few FMA chains when R is small, too few to
// hide the FMA's latency, so a 1-row tail costs more than its share; even
// tiles made decode steps of 7 and 13 rows 0-7% faster (docs/PERFORMANCE.md).
struct TileSpan {
  int64_t first;
  int rows;
};
TileSpan tile_span(int64_t n, int64_t t, int most) {
  const int64_t tiles = (n + most - 1) / most;
  const int64_t base = n / tiles, longer = n % tiles;  // the first `longer` tiles take one more row
  return {t * base + std::min(t, longer), static_cast<int>(base + (t < longer ? 1 : 0))};
}

// Element (k, col) of a panel: BF16 panels interleave k pairs,
// [in/2][16][2]; F32 ones are plain [in][16].
template <typename T>
constexpr int64_t panel_index(int64_t k, int64_t col) {
  if constexpr (std::is_same_v<T, float>) {
    return k * kLinearPanel + col;
  } else {
    return (k & ~int64_t{1}) * kLinearPanel + col * 2 + (k & 1);
  }
}

// Packed activations of one row tile: [in][rows] so that the broadcasts of a
// k step read one contiguous run (a row-major x would make 6 strided streams).
void pack_rows(const float* x, int64_t in, int rows, float* packed) {
  for (int r = 0; r < rows; ++r) {
    const float* row = x + r * in;
    for (int64_t k = 0; k < in; ++k) packed[k * rows + r] = row[k];
  }
}

// Rows as row_to_bf16_pairs does, for the BF16 kernel: [in/2][rows] pairs
// (x[k], x[k+1]) of bf16, an odd last k paired with 0. Rows are converted
// four at a time and transposed in 4 x 4 blocks of pairs: one 16-byte store
// per pair and four rows (masked to the rows that exist in the last group),
// where a scalar loop stored 4 bytes at a time.
__attribute__((target("avx512f"))) void pack_rows_bf16(const float* x, int64_t in, int rows, uint32_t* packed) {
  const int64_t pairs = (in + 1) / 2, padded = (pairs + 7) / 8 * 8;
  thread_local std::vector<uint32_t> row_pairs;
  row_pairs.resize(4 * padded);
  for (int r = 0; r < rows; r += 4) {
    const int n = std::min(4, rows - r);
    const uint32_t* tmp[4];
    for (int i = 0; i < 4; ++i) {
      uint32_t* row = row_pairs.data() + std::min(i, n - 1) * padded;  // a missing row repeats the last
      if (i < n) row_to_bf16_pairs(x + (r + i) * in, in, row);
      tmp[i] = row;
    }
    const __m128i live = _mm_cmpgt_epi32(_mm_set1_epi32(n), _mm_setr_epi32(0, 1, 2, 3));
    for (int64_t p = 0; p < pairs; p += 4) {
      const auto load = [&](int i) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(tmp[i] + p)); };
      const __m128i a = load(0), b = load(1), c = load(2), d = load(3);
      const __m128i ab_low = _mm_unpacklo_epi32(a, b), ab_high = _mm_unpackhi_epi32(a, b);
      const __m128i cd_low = _mm_unpacklo_epi32(c, d), cd_high = _mm_unpackhi_epi32(c, d);
      const __m128i column[4] = {_mm_unpacklo_epi64(ab_low, cd_low), _mm_unpackhi_epi64(ab_low, cd_low),
                                 _mm_unpacklo_epi64(ab_high, cd_high), _mm_unpackhi_epi64(ab_high, cd_high)};
      for (int64_t i = 0; i < 4 && p + i < pairs; ++i) {
        auto* dst = reinterpret_cast<int*>(packed + (p + i) * rows + r);
        if (n == 4) {
          _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), column[i]);
        } else {
          _mm_maskstore_epi32(dst, live, column[i]);
        }
      }
    }
  }
}

// Where one row tile's results go: `ncols` of the 16 columns are real.
struct TileOut {
  float* y;
  int64_t ldy;
  int64_t ncols;
};

// Cache lines to request while a tile computes.
struct Prefetch {
  const char* bytes;
  int64_t lines;
};

// ---- AVX2 + FMA kernel ---------------------------------------------------
//
// Panels are read a pair of k steps at a time. A BF16 panel stores each pair
// interleaved, [in/2][16][2], so one 32-byte load holds 8 columns at k and
// k+1: shifting each 32-bit lane left by 16 gives the k values, clearing the
// low half (shift right then left) gives the k+1 values, both exact. An F32
// panel is plain [in][16].

__attribute__((target("avx2,fma"))) inline __m256 bf16_low(const uint16_t* p) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)), 16));
}
__attribute__((target("avx2,fma"))) inline __m256 bf16_high(const uint16_t* p) {
  const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_srli_epi32(v, 16), 16));
}

// The 16 weights of step k (k even: `high` false) of a panel.
template <typename T>
__attribute__((target("avx2,fma"))) inline void load_step(const T* panel, int64_t k, bool high, __m256& w0,
                                                          __m256& w1) {
  if constexpr (std::is_same_v<T, float>) {
    w0 = _mm256_loadu_ps(panel + k * kLinearPanel);
    w1 = _mm256_loadu_ps(panel + k * kLinearPanel + 8);
  } else {
    const T* pair = panel + panel_index<T>(k & ~int64_t{1}, 0);
    w0 = high ? bf16_high(pair) : bf16_low(pair);
    w1 = high ? bf16_high(pair + 16) : bf16_low(pair + 16);
  }
}

// The accumulators are named variables, not an array: GCC 12 keeps an
// array of __m256 in memory across the k loop and the kernel then runs at
// half speed. Rows at or beyond R are never touched (if constexpr).
#define LLMBATCH_ACC_ROW(r) __m256 c##r##0 = _mm256_setzero_ps(), c##r##1 = _mm256_setzero_ps();
#define LLMBATCH_FMA_ROW(r)                                                   \
  if constexpr (R > r) {                                                      \
    const __m256 b = _mm256_broadcast_ss(xk + r);                             \
    c##r##0 = _mm256_fmadd_ps(b, w0, c##r##0);                                \
    c##r##1 = _mm256_fmadd_ps(b, w1, c##r##1);                                \
  }
#define LLMBATCH_FMA_STEP(k, high)            \
  {                                           \
    __m256 w0, w1;                            \
    load_step(panel, k, high, w0, w1);        \
    const float* xk = xp + (k) * R;           \
    LLMBATCH_FMA_ROW(0) LLMBATCH_FMA_ROW(1)   \
    LLMBATCH_FMA_ROW(2) LLMBATCH_FMA_ROW(3)   \
    LLMBATCH_FMA_ROW(4) LLMBATCH_FMA_ROW(5)   \
  }
#define LLMBATCH_STORE_ROW(r)                        \
  if constexpr (R > r) {                             \
    float* row = full ? out.y + r * out.ldy : tile + r * kLinearPanel; \
    _mm256_storeu_ps(row, c##r##0);                  \
    _mm256_storeu_ps(row + 8, c##r##1);              \
  }

// out[r][0..ncols) = xp row r · panel, for R ≤ 6 rows packed by pack_rows.
// Every output is one accumulator updated by fma(x[k], w[k], acc) for
// k = 0 .. in-1 in order: the same operations whatever R is. Meanwhile
// `prefetch.lines` cache lines from `prefetch.bytes` (a share of the next
// panel) are requested, spread evenly over the k pairs.
template <int R, typename T>
__attribute__((target("avx2,fma"))) void kernel_avx2(const float* xp, const T* panel, int64_t in,
                                                     const Prefetch& prefetch, const TileOut& out) {
  LLMBATCH_ACC_ROW(0) LLMBATCH_ACC_ROW(1) LLMBATCH_ACC_ROW(2)
  LLMBATCH_ACC_ROW(3) LLMBATCH_ACC_ROW(4) LLMBATCH_ACC_ROW(5)
  // The lines go out evenly over the k pairs, `prefetch.lines` per `pairs`
  // (Bresenham): requests bunched at the start would leave memory idle for
  // the rest of the tile.
  const int64_t pairs = std::max<int64_t>(1, in / 2);
  int64_t line = 0, owed = 0;
  int64_t k = 0;
  for (; k + 2 <= in; k += 2) {
    for (owed += prefetch.lines; owed >= pairs; owed -= pairs) _mm_prefetch(prefetch.bytes + 64 * line++, _MM_HINT_T0);
    LLMBATCH_FMA_STEP(k, false)
    LLMBATCH_FMA_STEP(k + 1, true)
  }
  if (k < in) LLMBATCH_FMA_STEP(k, false)
  // A full panel stores straight into y; the last, partial one via a tile.
  const bool full = out.ncols == kLinearPanel;
  alignas(32) float tile[kTileRows * kLinearPanel];
  LLMBATCH_STORE_ROW(0) LLMBATCH_STORE_ROW(1) LLMBATCH_STORE_ROW(2)
  LLMBATCH_STORE_ROW(3) LLMBATCH_STORE_ROW(4) LLMBATCH_STORE_ROW(5)
  if (full) return;
  for (int r = 0; r < R; ++r) std::memcpy(out.y + r * out.ldy, tile + r * kLinearPanel, out.ncols * sizeof(float));
}

#undef LLMBATCH_ACC_ROW
#undef LLMBATCH_FMA_ROW
#undef LLMBATCH_FMA_STEP
#undef LLMBATCH_STORE_ROW

// ---- AVX-512 BF16 kernel ------------------------------------------------
//
// A BF16 panel's k pair (k, k+1) of all 16 columns is one 64-byte line,
// exactly VDPBF16PS's operand: one instruction per row and pair adds
// x[k]·w[k] + x[k+1]·w[k+1] to the row's 16 accumulators. Rows are named
// accumulators, as in the AVX2 kernel.

#define LLMBATCH_BF16_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define LLMBATCH_BF16_ACC(r) __m512 c##r = _mm512_setzero_ps();
#define LLMBATCH_BF16_DOT(r) \
  if constexpr (R > r) c##r = _mm512_dpbf16_ps(c##r, (__m512bh)_mm512_set1_epi32(static_cast<int>(xk[r])), w);
#define LLMBATCH_BF16_STORE(r) \
  if constexpr (R > r) _mm512_mask_storeu_ps(out.y + r * out.ldy, columns, c##r);

// out[r][0..ncols) = xp row r · panel for R ≤ 12 rows packed by
// pack_rows_bf16; each accumulator takes one VDPBF16PS per k pair, pairs in
// order, whatever R is. Prefetches as kernel_avx2.
template <int R>
__attribute__((target("avx512f,avx512bf16"))) void kernel_avx512_bf16(const uint32_t* xp, const uint16_t* panel,
                                                                       int64_t in, const Prefetch& prefetch,
                                                                       const TileOut& out) {
  static_assert(R <= kTileRowsBf16);
  LLMBATCH_BF16_ROWS(LLMBATCH_BF16_ACC)
  const int64_t pairs = (in + 1) / 2;
  int64_t line = 0, owed = 0;
  for (int64_t p = 0; p < pairs; ++p) {
    for (owed += prefetch.lines; owed >= pairs; owed -= pairs) _mm_prefetch(prefetch.bytes + 64 * line++, _MM_HINT_T0);
    const __m512bh w = (__m512bh)_mm512_loadu_si512(panel + p * 2 * kLinearPanel);
    const uint32_t* xk = xp + p * R;
    LLMBATCH_BF16_ROWS(LLMBATCH_BF16_DOT)
  }
  const __mmask16 columns = static_cast<__mmask16>((1u << out.ncols) - 1);
  LLMBATCH_BF16_ROWS(LLMBATCH_BF16_STORE)
}

#undef LLMBATCH_BF16_ROWS
#undef LLMBATCH_BF16_ACC
#undef LLMBATCH_BF16_DOT
#undef LLMBATCH_BF16_STORE

// ---- portable kernel (same order, separate multiply and add) -------------

template <typename T>
float panel_weight(const T* panel, int64_t k, int64_t col) {
  if constexpr (std::is_same_v<T, float>) {
    return panel[panel_index<T>(k, col)];
  } else {
    return bf16_to_f32(panel[panel_index<T>(k, col)]);
  }
}

template <typename T>
void kernel_portable(const float* xp, int rows, const T* panel, int64_t in, const TileOut& out) {
  for (int r = 0; r < rows; ++r) {
    float acc[kLinearPanel] = {};
    for (int64_t k = 0; k < in; ++k) {
      const float xv = xp[k * rows + r];
      for (int64_t c = 0; c < kLinearPanel; ++c) acc[c] += xv * panel_weight(panel, k, c);
    }
    std::memcpy(out.y + r * out.ldy, acc, out.ncols * sizeof(float));
  }
}

// The structs go by reference: passed by value, the 24-byte TileOut was
// copied through the stack with a store-forwarding stall on every call.
// `xp` is the tile's packed rows: bf16 pairs for the BF16 kernel, else f32.
template <typename T>
void run_tile(LinearKernel kernel, const void* xp, int rows, const T* panel, int64_t in, const Prefetch& prefetch,
              const TileOut& out) {
  if constexpr (std::is_same_v<T, uint16_t>) {
    if (kernel == LinearKernel::Avx512Bf16) {
      const auto* pairs = static_cast<const uint32_t*>(xp);
      switch (rows) {
#define LLMBATCH_BF16_CASE(r) \
  case r: return kernel_avx512_bf16<r>(pairs, panel, in, prefetch, out);
        LLMBATCH_BF16_CASE(12) LLMBATCH_BF16_CASE(11) LLMBATCH_BF16_CASE(10) LLMBATCH_BF16_CASE(9)
        LLMBATCH_BF16_CASE(8) LLMBATCH_BF16_CASE(7) LLMBATCH_BF16_CASE(6) LLMBATCH_BF16_CASE(5)
        LLMBATCH_BF16_CASE(4) LLMBATCH_BF16_CASE(3) LLMBATCH_BF16_CASE(2) LLMBATCH_BF16_CASE(1)
#undef LLMBATCH_BF16_CASE
      }
      return;
    }
  }
  const auto* x = static_cast<const float*>(xp);
  if (kernel == LinearKernel::Portable) return kernel_portable(x, rows, panel, in, out);
  switch (rows) {
    case 6: return kernel_avx2<6>(x, panel, in, prefetch, out);
    case 5: return kernel_avx2<5>(x, panel, in, prefetch, out);
    case 4: return kernel_avx2<4>(x, panel, in, prefetch, out);
    case 3: return kernel_avx2<3>(x, panel, in, prefetch, out);
    case 2: return kernel_avx2<2>(x, panel, in, prefetch, out);
    case 1: return kernel_avx2<1>(x, panel, in, prefetch, out);
  }
}

// Rows per block: the block's packed activations (≤ 384 KiB as f32) stay
// in the L2 cache while every panel passes over them; at least 48 rows so
// that a panel fetched from memory serves 4-8 tiles. A multiple of both
// tile heights.
int64_t rows_per_block(int64_t in) {
  const int64_t fit = (384 * 1024) / (in * int64_t{sizeof(float)});
  return std::clamp<int64_t>(fit / kTileRowsBf16 * kTileRowsBf16, 48, 96);
}

// Reused packing buffers of the calling thread (forward runs per thread):
// f32 rows, or bf16 pairs for the BF16 kernel.
thread_local std::vector<float> packed_rows;
thread_local std::vector<uint32_t> packed_pairs;

// The panels of one GEMM, one contiguous run per thread. A thread takes its
// own run's panels front to back, so its reads are one stream and the panel
// it prefetches is the one it computes next (OpenMP's dynamic chunks of 2-3
// panels left every chunk's first panel to be fetched on demand). A thread
// whose run is done takes panels from the back of the run with the most
// left, so a core slowed by another process holds nobody up.
class PanelRuns {
 public:
  struct Claim {
    int64_t panel = -1;  // -1: none left
    int64_t next = -1;   // the panel this thread likely takes after it (-1: none)
  };

  // Splits `panels` into `threads` runs; by one thread, before any takes.
  void reset(int threads, int64_t panels) {
    if (threads > capacity_) {
      runs_ = std::make_unique<Run[]>(threads);
      capacity_ = threads;
    }
    threads_ = threads;
    for (int t = 0; t < threads; ++t) {
      const uint64_t front = panels * t / threads, back = panels * (t + 1) / threads;
      runs_[t].ends.store(front << 32 | back, std::memory_order_relaxed);
    }
  }

  Claim take(int thread) {
    if (thread < threads_) {
      if (const int64_t p = take_front(runs_[thread]); p >= 0) return {p, p + 1 < back_of(thread) ? p + 1 : -1};
    }
    for (;;) {
      int victim = -1;
      int64_t most = 0;
      for (int t = 0; t < threads_; ++t) {
        const uint64_t e = runs_[t].ends.load(std::memory_order_relaxed);
        const int64_t left = static_cast<int64_t>(e & 0xffffffffu) - static_cast<int64_t>(e >> 32);
        if (left > most) most = left, victim = t;
      }
      if (victim < 0) return {};
      if (const int64_t p = take_back(runs_[victim]); p >= 0) return {p, p - 1 >= front_of(victim) ? p - 1 : -1};
    }
  }

 private:
  struct alignas(64) Run {
    std::atomic<uint64_t> ends{0};  // front << 32 | back: panels [front, back) are left
  };

  static int64_t take_front(Run& run) {
    uint64_t e = run.ends.load(std::memory_order_relaxed);
    for (;;) {
      const uint64_t front = e >> 32, back = e & 0xffffffffu;
      if (front >= back) return -1;
      if (run.ends.compare_exchange_weak(e, (front + 1) << 32 | back, std::memory_order_relaxed)) return front;
    }
  }
  static int64_t take_back(Run& run) {
    uint64_t e = run.ends.load(std::memory_order_relaxed);
    for (;;) {
      const uint64_t front = e >> 32, back = e & 0xffffffffu;
      if (front >= back) return -1;
      if (run.ends.compare_exchange_weak(e, front << 32 | (back - 1), std::memory_order_relaxed)) return back - 1;
    }
  }
  int64_t back_of(int t) const {
    return static_cast<int64_t>(runs_[t].ends.load(std::memory_order_relaxed) & 0xffffffffu);
  }
  int64_t front_of(int t) const { return static_cast<int64_t>(runs_[t].ends.load(std::memory_order_relaxed) >> 32); }

  std::unique_ptr<Run[]> runs_;
  int capacity_ = 0, threads_ = 0;
};

// The calling thread's panel runs (forward runs per thread).
thread_local PanelRuns panel_runs;

// Scatters one weight row (`in` values of T) into column `col` of `panel`.
template <typename T>
void pack_weight_row(const T* row, int64_t in, int64_t col, T* panel) {
  for (int64_t k = 0; k < in; ++k) panel[panel_index<T>(k, col)] = row[k];
}

}  // namespace

Linear::Linear(HugePageArena& arena, const void* weight, DType weight_dtype, int64_t out_features,
               int64_t in_features, DType storage_dtype)
    : Linear(arena, weight, weight_dtype, out_features, in_features, storage_dtype, linear_kernel(storage_dtype)) {}

Linear::Linear(HugePageArena& arena, const void* weight, DType weight_dtype, int64_t out_features,
               int64_t in_features, DType storage_dtype, LinearKernel kernel)
    : out_(out_features), in_(in_features), panels_((out_features + kLinearPanel - 1) / kLinearPanel),
      storage_(storage_dtype), kernel_(kernel) {
  LLMBATCH_CHECK(storage_ == DType::F32 || storage_ == DType::BF16, "Linear stores F32 or BF16");
  LLMBATCH_CHECK(linear_kernel_supported(kernel_, storage_), "this CPU does not run that Linear kernel");
  const size_t elem = dtype_size(storage_);
  // BF16 pairs k steps: [in/2][16][2], the odd last step paired with zeros.
  const int64_t steps = storage_ == DType::BF16 ? (in_ + 1) / 2 * 2 : in_;
  panel_elems_ = steps * kLinearPanel;
  packed_ = arena.allocate(panels_ * panel_elems_ * elem);  // zeros: padding columns and steps stay 0
  std::vector<float> row(in_);
  std::vector<uint8_t> converted(in_ * elem);
  const size_t src_row_bytes = in_ * dtype_size(weight_dtype);
  for (int64_t o = 0; o < out_; ++o) {
    dtype_to_f32(weight_dtype, static_cast<const uint8_t*>(weight) + o * src_row_bytes, row.data(), in_);
    dtype_from_f32(storage_, row.data(), converted.data(), in_);
    uint8_t* panel = packed_.data() + o / kLinearPanel * panel_elems_ * elem;
    const int64_t col = o % kLinearPanel;
    if (storage_ == DType::BF16) {
      pack_weight_row(reinterpret_cast<const uint16_t*>(converted.data()), in_, col, reinterpret_cast<uint16_t*>(panel));
    } else {
      pack_weight_row(reinterpret_cast<const float*>(converted.data()), in_, col, reinterpret_cast<float*>(panel));
    }
  }
}

template <typename T>
void Linear::forward_packed(const float* x, int64_t rows, float* y) const {
  const T* panels = reinterpret_cast<const T*>(packed_.data());
  const int64_t block_rows = rows_per_block(in_);
  const int most = tile_rows(kernel_);
  // A packed row: `in_` floats, or (in_ + 1) / 2 bf16 pairs.
  const bool pairs = kernel_ == LinearKernel::Avx512Bf16;
  const int64_t row_elems = pairs ? (in_ + 1) / 2 : in_;
  if (pairs) {
    packed_pairs.resize(std::min(rows, block_rows) * row_elems);
  } else {
    packed_rows.resize(std::min(rows, block_rows) * row_elems);
  }
  float* xf = packed_rows.data();
  uint32_t* xb = packed_pairs.data();
  const auto pack = [&](const float* src, int n, int64_t first) {
    if (pairs) return pack_rows_bf16(src, in_, n, xb + first * row_elems);
    pack_rows(src, in_, n, xf + first * row_elems);
  };
  const auto packed = [&](int64_t first) -> const void* {
    return pairs ? static_cast<const void*>(xb + first * row_elems) : xf + first * row_elems;
  };
  // One tile (a few decode rows) is packed here: a shared loop would cost a
  // barrier worth more than the copy.
  const bool one_tile = rows <= most;
  const int threads = omp_get_max_threads();
  const int64_t panel_lines = panel_elems_ * int64_t{sizeof(T)} / 64;
  if (one_tile) pack(x, static_cast<int>(rows), 0);
  // The calling thread's runs, shared by the team (inside the region the
  // name panel_runs would be each thread's own). A smaller team than
  // `threads` still finishes: its threads take the missing ones' runs.
  PanelRuns& runs = panel_runs;
  runs.reset(threads, panels_);
#pragma omp parallel
  for (int64_t r0 = 0; r0 < rows; r0 += block_rows) {
    const int64_t n = std::min(block_rows, rows - r0);
    const int64_t tiles = (n + most - 1) / most;
    if (!one_tile) {
      if (r0 > 0) {  // the last block's panels are done before its rows and runs are replaced
#pragma omp barrier
        if (omp_get_thread_num() == 0) runs.reset(threads, panels_);
      }
#pragma omp for schedule(static)
      for (int64_t t = 0; t < tiles; ++t) {
        const TileSpan tile = tile_span(n, t, most);
        pack(x + (r0 + tile.first) * in_, tile.rows, tile.first);
      }
    }
    // Which thread computes a panel never changes its bits.
    const int me = omp_get_thread_num();
    for (PanelRuns::Claim c = runs.take(me); c.panel >= 0; c = runs.take(me)) {
      const int64_t p = c.panel;
      const T* panel = panels + p * panel_elems_;
      const int64_t ncols = std::min(kLinearPanel, out_ - p * kLinearPanel);
      for (int64_t t = 0; t < tiles; ++t) {
        // Each tile requests a share of the next panel in proportion to its
        // rows, so that fetching it from memory overlaps all of this
        // panel's work evenly.
        const TileSpan tile = tile_span(n, t, most);
        const int64_t first = panel_lines * tile.first / n;
        const int64_t last = panel_lines * (tile.first + tile.rows) / n;
        const Prefetch prefetch{reinterpret_cast<const char*>(panels + std::max<int64_t>(c.next, 0) * panel_elems_) +
                                    first * 64,
                                c.next >= 0 ? last - first : 0};
        const TileOut out{y + (r0 + tile.first) * out_ + p * kLinearPanel, out_, ncols};
        run_tile(kernel_, packed(tile.first), tile.rows, panel, in_, prefetch, out);
      }
    }
  }
}

void Linear::forward(const float* x, int64_t rows, float* y) const {
  if (rows == 0) return;
  if (storage_ == DType::F32) {
    forward_packed<float>(x, rows, y);
  } else {
    forward_packed<uint16_t>(x, rows, y);
  }
}

bool linear_kernel_supported(LinearKernel kernel, DType storage) {
  switch (kernel) {
    case LinearKernel::Portable: return true;
    case LinearKernel::Avx2: return cpu_supports_avx2_fma();
    case LinearKernel::Avx512Bf16: return storage == DType::BF16 && cpu_supports_avx512_bf16();
  }
  return false;
}

LinearKernel linear_kernel(DType storage) {
  for (LinearKernel k : {LinearKernel::Avx512Bf16, LinearKernel::Avx2}) {
    if (linear_kernel_supported(k, storage)) return k;
  }
  return LinearKernel::Portable;
}

const char* linear_kernel_name(LinearKernel kernel) {
  switch (kernel) {
    case LinearKernel::Portable: return "portable";
    case LinearKernel::Avx2: return "avx2+fma";
    case LinearKernel::Avx512Bf16: return "avx512-bf16";
  }
  return "?";
}

void cpu_set_threads(int threads) { omp_set_num_threads(threads > 0 ? threads : omp_get_num_procs()); }

int cpu_threads() { return omp_get_max_threads(); }

}  // namespace llmbatch
