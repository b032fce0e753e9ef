// A linear layer y = x · Wᵀ on the CPU, batch-invariant by construction.
//
// W arrives as Hugging Face stores it, [out_features, in_features], and is
// packed once into panels of kLinearPanel output features, k-major, in F32
// ([panel][in][16]) or BF16 ([panel][in/2][16][2], k pairs interleaved;
// BF16 halves the memory traffic and is widened to f32 in registers).
// Activations and accumulation are f32. Rows run in blocks that stay in
// L2, in register tiles of up to 6 rows × 16 columns; each thread takes a
// run of contiguous panels, then panels from the back of others' runs.
//
// Every output element is one accumulator that walks k = 0 .. in-1 in
// order, whichever tile size, thread or batch computes it. So a row's bits
// depend only on that row and W — never on how many rows run together or
// where the row sits (oneDNN does not give that: see onednn_linear.h).
//
// The kernel is chosen once per machine type (linear_kernel), so results
// are reproducible per machine type:
// - avx512-bf16 (BF16 weights on CPUs with AVX512_BF16): activations are
//   rounded to bf16 and each step is one VDPBF16PS adding the pair's two
//   products x[k]·w[k] and x[k+1]·w[k+1] to the f32 accumulator, steps
//   walking k pairs in order — a bf16 × bf16 GEMM with f32 accumulation,
//   the math of oneDNN's bf16 GEMM and of a bf16 model in PyTorch, at twice
//   the f32 FMA rate. How the instruction rounds inside a step is the CPU's
//   (Intel documents the k+1 product first, subnormals as zero), so these
//   bits belong to a CPU family, not just to the feature flag.
// - avx2+fma: f32 activations, acc = fma(x[k], w[k], acc) in k order.
// - portable: the same order, acc + x[k] * w[k] with two roundings.
#pragma once

#include <cstdint>
#include <span>

#include "core/dtype.h"
#include "core/huge_page_arena.h"

namespace llmbatch {

constexpr int64_t kLinearPanel = 16;

enum class LinearKernel { Portable, Avx2, Avx512Bf16 };

// The fastest kernel this CPU runs for weights stored as `storage` (F32 or
// BF16).
LinearKernel linear_kernel(DType storage);
// Whether this CPU runs `kernel` on weights stored as `storage`.
bool linear_kernel_supported(LinearKernel kernel, DType storage);
// "portable", "avx2+fma" or "avx512-bf16".
const char* linear_kernel_name(LinearKernel kernel);

class Linear {
 public:
  // weight: [out_features, in_features] in `weight_dtype` (F32, F16, BF16),
  // stored packed as `storage_dtype` (F32 or BF16) in memory from `arena`,
  // which must outlive the layer; the source is copied. Runs `kernel`
  // (linear_kernel_supported), by default linear_kernel(storage_dtype).
  Linear(HugePageArena& arena, const void* weight, DType weight_dtype, int64_t out_features, int64_t in_features,
         DType storage_dtype);
  Linear(HugePageArena& arena, const void* weight, DType weight_dtype, int64_t out_features, int64_t in_features,
         DType storage_dtype, LinearKernel kernel);

  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }
  DType storage_dtype() const { return storage_; }
  LinearKernel kernel() const { return kernel_; }

  // x: [rows, in_features] f32; y: [rows, out_features] f32 (overwritten).
  void forward(const float* x, int64_t rows, float* y) const;

 private:
  template <typename T>
  void forward_packed(const float* x, int64_t rows, float* y) const;

  int64_t out_ = 0, in_ = 0, panels_ = 0;
  int64_t panel_elems_ = 0;  // elements per panel, padding included
  DType storage_ = DType::F32;
  LinearKernel kernel_ = LinearKernel::Portable;
  std::span<uint8_t> packed_;  // panels_ × panel_elems_ in storage_, in the arena
};

// Row-parallel CPU ops run fewer rows than this on the calling thread: a
// decode step of one sequence would otherwise pay a team fork and barrier
// (several microseconds on a VM) for each of ~300 tiny loops.
constexpr int64_t kMinRowsForThreads = 8;

// Threads for the CPU ops (OpenMP, also used by oneDNN); 0 = all cores.
void cpu_set_threads(int threads);
int cpu_threads();

}  // namespace llmbatch
