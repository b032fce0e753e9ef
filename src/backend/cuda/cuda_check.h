// Every CUDA runtime status is checked where it is returned and turned into
// an llmbatch error that names the call.
#pragma once

#include <string>

#include <cuda_runtime_api.h>

namespace llmbatch {

// Throws InternalError naming `what` and the CUDA error when status != success.
void cuda_check(cudaError_t status, const std::string& what);

// Devices visible to this process; 0 (not an error) when there is no GPU or
// no driver, so CPU-only machines can ask.
int cuda_device_count();

}  // namespace llmbatch
