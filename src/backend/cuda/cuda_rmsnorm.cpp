#include "backend/cuda/cuda_rmsnorm.h"

#include <cuda_runtime.h>

#include "backend/cuda/cuda_check.h"
#include "core/error.h"
#include "launch.h"

namespace llmbatch {
namespace {

// Device memory freed on every path out.
struct DeviceFloats {
  explicit DeviceFloats(size_t n) { cuda_check(cudaMalloc(&ptr, n * sizeof(float)), "cudaMalloc"); }
  ~DeviceFloats() { cudaFree(ptr); }
  DeviceFloats(const DeviceFloats&) = delete;
  DeviceFloats& operator=(const DeviceFloats&) = delete;
  float* ptr = nullptr;
};

}  // namespace

void cuda_rmsnorm_host(std::span<const float> x, std::span<const float> weight, std::span<float> y, int rows,
                       int hidden, float eps) {
  const size_t n = static_cast<size_t>(rows) * hidden;
  LLMBATCH_CHECK(x.size() == n && y.size() == n && weight.size() == static_cast<size_t>(hidden),
                 "rmsnorm shapes");
  DeviceFloats dx(n), dw(hidden), dy(n);
  cuda_check(cudaMemcpy(dx.ptr, x.data(), n * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy x");
  cuda_check(cudaMemcpy(dw.ptr, weight.data(), hidden * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy weight");
  cuda_check(kernels::rmsnorm_launch(dx.ptr, dw.ptr, dy.ptr, rows, hidden, eps, nullptr), "rmsnorm launch");
  cuda_check(cudaMemcpy(y.data(), dy.ptr, n * sizeof(float), cudaMemcpyDeviceToHost), "cudaMemcpy y");
}

}  // namespace llmbatch
