// RMSNorm on the GPU for host arrays: copies in, runs the kernel, copies
// out. For tests and checks of the kernel; the CUDA backend will keep
// activations on the device.
#pragma once

#include <span>

namespace llmbatch {

// x, y: [rows, hidden] row-major; weight: [hidden]. Throws InternalError on
// any CUDA failure (including "no device").
void cuda_rmsnorm_host(std::span<const float> x, std::span<const float> weight, std::span<float> y, int rows,
                       int hidden, float eps);

}  // namespace llmbatch
