// A linear layer y = x · Wᵀ through oneDNN, with W packed once: the
// reference and the baseline for Linear (linear.h), which the engine uses.
//
// W comes as Hugging Face stores it, [out_features, in_features] row-major.
// BF16 weights (and any weights when the compute dtype is BF16) run as a
// bf16 × bf16 GEMM with f32 accumulation: activations are rounded to bf16 on
// the way in, as a bf16 model does in PyTorch. F32 runs as f32.
//
// The plain, fastest use of oneDNN: one primitive per row count (cached),
// created for exactly the rows given. Not batch-invariant: oneDNN picks
// kernels, blockings and even algorithms (GEMV for M = 1) by the row count,
// and with Debian's oneDNN 2.6 on AVX2 a row's bits even depend on its
// position inside a fixed 16-row call (positions 6, 7, 14, 15 of a
// K = 128, N = 64 product differ). That is why the engine runs its own
// kernel; this class is the accuracy reference and the speed baseline.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "core/dtype.h"

namespace llmbatch {

// Rows per oneDNN call at most; longer inputs are cut into tiles.
constexpr int64_t kOnednnRowTile = 256;

class OnednnLinear {
 public:
  // weight: [out_features, in_features] in `weight_dtype`; copied and
  // packed, so the source may be unmapped afterwards.
  OnednnLinear(const void* weight, DType weight_dtype, int64_t out_features, int64_t in_features, DType compute_dtype);
  ~OnednnLinear();
  OnednnLinear(OnednnLinear&&) noexcept;
  OnednnLinear& operator=(OnednnLinear&&) noexcept;

  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }
  DType compute_dtype() const { return compute_; }
  // Name of the oneDNN implementation chosen, e.g. "brg:avx512_core_bf16".
  std::string implementation() const;

  // x: [rows, in_features] f32; y: [rows, out_features] f32 (overwritten).
  void forward(const float* x, int64_t rows, float* y) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
  int64_t out_ = 0, in_ = 0;
  DType compute_ = DType::F32;
};

// Whether this CPU runs bf16 GEMMs natively (oneDNN needs AVX-512 with
// BF16, or AMX). Without it bf16 weights are widened to f32 and run as f32:
// same math up to rounding, twice the memory.
bool cpu_supports_bf16_gemm();

// The compute dtype for weights stored as `weight_dtype` when the user asks
// for `requested` (F32, or BF16 for model.dtype: bf16 / auto on a bf16
// model): BF16 only where the CPU supports it.
DType linear_compute_dtype(DType weight_dtype, DType requested);


}  // namespace llmbatch
