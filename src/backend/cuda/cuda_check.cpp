#include "backend/cuda/cuda_check.h"

#include "core/error.h"

namespace llmbatch {

void cuda_check(cudaError_t status, const std::string& what) {
  if (status == cudaSuccess) return;
  throw InternalError(what + " failed: " + cudaGetErrorName(status) + " (" + cudaGetErrorString(status) + ")");
}

int cuda_device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" status
    return 0;
  }
  return count;
}

}  // namespace llmbatch
