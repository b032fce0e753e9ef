#include "backend/cpu/linear.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace llmbatch {
namespace {

// ---- AVX2 + FMA kernel ---------------------------------------------------

__attribute__((target("avx2,fma"))) inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }

__attribute__((target("avx2,fma"))) inline __m256 load8(const uint16_t* p) {
  const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));  // bf16 -> f32 is exact
}

// y[r][0..ncols) = x[r] · panel for R rows; panel: [in][16] in T.
template <int R, typename T>
__attribute__((target("avx2,fma"))) void kernel_avx2(const float* x, int64_t ldx, const T* panel, int64_t in,
                                                     float* y, int64_t ldy, int64_t ncols) {
  __m256 acc[R][2];
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (int64_t k = 0; k < in; ++k) {
    const __m256 w0 = load8(panel + k * kLinearPanel);
    const __m256 w1 = load8(panel + k * kLinearPanel + 8);
    for (int r = 0; r < R; ++r) {
      const __m256 xb = _mm256_broadcast_ss(x + r * ldx + k);
      acc[r][0] = _mm256_fmadd_ps(xb, w0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(xb, w1, acc[r][1]);
    }
  }
  for (int r = 0; r < R; ++r) {
    alignas(32) float out[kLinearPanel];
    _mm256_store_ps(out, acc[r][0]);
    _mm256_store_ps(out + 8, acc[r][1]);
    std::memcpy(y + r * ldy, out, ncols * sizeof(float));
  }
}

// ---- portable kernel (same order, separate multiply and add) -------------

typedef float Lanes __attribute__((vector_size(32)));

// Out-parameters, not return values: returning a 32-byte vector from a
// function compiled without AVX changes the ABI (-Wpsabi).
inline void load_lanes(const float* p, Lanes* v) { std::memcpy(v, p, sizeof *v); }

inline void load_lanes(const uint16_t* p, Lanes* v) {
  for (int i = 0; i < 8; ++i) (*v)[i] = bf16_to_f32(p[i]);
}

template <int R, typename T>
void kernel_portable(const float* x, int64_t ldx, const T* panel, int64_t in, float* y, int64_t ldy, int64_t ncols) {
  Lanes acc[R][2] = {};
  for (int64_t k = 0; k < in; ++k) {
    Lanes w0, w1;
    load_lanes(panel + k * kLinearPanel, &w0);
    load_lanes(panel + k * kLinearPanel + 8, &w1);
    for (int r = 0; r < R; ++r) {
      const float xv = x[r * ldx + k];
      acc[r][0] += xv * w0;
      acc[r][1] += xv * w1;
    }
  }
  for (int r = 0; r < R; ++r) {
    float out[kLinearPanel];
    std::memcpy(out, &acc[r][0], 32);
    std::memcpy(out + 8, &acc[r][1], 32);
    std::memcpy(y + r * ldy, out, ncols * sizeof(float));
  }
}

bool has_avx2_fma() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}

// All rows of one panel, four at a time, then the 1-3 left over.
template <typename T>
void run_panel(const float* x, int64_t rows, int64_t in, const T* panel, float* y, int64_t ldy, int64_t ncols) {
  const bool avx2 = has_avx2_fma();
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    avx2 ? kernel_avx2<4>(x + r * in, in, panel, in, y + r * ldy, ldy, ncols)
         : kernel_portable<4>(x + r * in, in, panel, in, y + r * ldy, ldy, ncols);
  }
  const int64_t left = rows - r;
  const float* xr = x + r * in;
  float* yr = y + r * ldy;
  if (left == 3) avx2 ? kernel_avx2<3>(xr, in, panel, in, yr, ldy, ncols) : kernel_portable<3>(xr, in, panel, in, yr, ldy, ncols);
  if (left == 2) avx2 ? kernel_avx2<2>(xr, in, panel, in, yr, ldy, ncols) : kernel_portable<2>(xr, in, panel, in, yr, ldy, ncols);
  if (left == 1) avx2 ? kernel_avx2<1>(xr, in, panel, in, yr, ldy, ncols) : kernel_portable<1>(xr, in, panel, in, yr, ldy, ncols);
}

// Rows per block: a block of x stays in cache while every panel passes over it.
constexpr int64_t kRowBlock = 64;

}  // namespace

Linear::Linear(const void* weight, DType weight_dtype, int64_t out_features, int64_t in_features,
               DType storage_dtype)
    : out_(out_features), in_(in_features), panels_((out_features + kLinearPanel - 1) / kLinearPanel),
      storage_(storage_dtype) {
  LLMBATCH_CHECK(storage_ == DType::F32 || storage_ == DType::BF16, "Linear stores F32 or BF16");
  const size_t elem = dtype_size(storage_);
  packed_.assign(panels_ * in_ * kLinearPanel * elem, 0);  // padding columns stay 0
  std::vector<float> row(in_);
  std::vector<uint8_t> converted(in_ * elem);
  const size_t src_row_bytes = in_ * dtype_size(weight_dtype);
  for (int64_t o = 0; o < out_; ++o) {
    dtype_to_f32(weight_dtype, static_cast<const uint8_t*>(weight) + o * src_row_bytes, row.data(), in_);
    dtype_from_f32(storage_, row.data(), converted.data(), in_);
    const int64_t panel = o / kLinearPanel, col = o % kLinearPanel;
    for (int64_t k = 0; k < in_; ++k) {
      std::memcpy(&packed_[((panel * in_ + k) * kLinearPanel + col) * elem], &converted[k * elem], elem);
    }
  }
}

void Linear::forward(const float* x, int64_t rows, float* y) const {
  const int64_t blocks = (rows + kRowBlock - 1) / kRowBlock;
  const size_t panel_bytes = in_ * kLinearPanel * dtype_size(storage_);
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t b = 0; b < blocks; ++b) {
    for (int64_t p = 0; p < panels_; ++p) {
      const int64_t r0 = b * kRowBlock, n = std::min(kRowBlock, rows - r0);
      const int64_t ncols = std::min(kLinearPanel, out_ - p * kLinearPanel);
      const uint8_t* panel = packed_.data() + p * panel_bytes;
      float* yp = y + r0 * out_ + p * kLinearPanel;
      if (storage_ == DType::F32) {
        run_panel(x + r0 * in_, n, in_, reinterpret_cast<const float*>(panel), yp, out_, ncols);
      } else {
        run_panel(x + r0 * in_, n, in_, reinterpret_cast<const uint16_t*>(panel), yp, out_, ncols);
      }
    }
  }
}

const char* linear_kernel_name() { return has_avx2_fma() ? "avx2+fma" : "portable"; }

void cpu_set_threads(int threads) { omp_set_num_threads(threads > 0 ? threads : omp_get_num_procs()); }

int cpu_threads() { return omp_get_max_threads(); }

}  // namespace llmbatch
