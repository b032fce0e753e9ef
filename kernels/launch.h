// Host-callable launchers of the kernels in this folder, for the CUDA
// backend (src/backend/cuda). Plain C++ with the CUDA runtime types; each
// returns the launch status, which the caller must check.
#pragma once

#include <cuda_runtime_api.h>

namespace llmbatch::kernels {

// RMSNorm, one block per row on `stream`. x, y: [rows, hidden] row-major,
// device pointers; weight: [hidden].
cudaError_t rmsnorm_launch(const float* x, const float* weight, float* y, int rows, int hidden, float eps,
                           cudaStream_t stream);

}  // namespace llmbatch::kernels
