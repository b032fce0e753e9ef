#include "launch.h"
#include "rmsnorm.cuh"

namespace llmbatch::kernels {
namespace {

// One block of kRmsNormLanes threads per row; same reduction order as
// rmsnorm_row_host (lane sums, then a halving tree in shared memory).
__global__ void rmsnorm_kernel(const float* __restrict__ x, const float* __restrict__ weight,
                               float* __restrict__ y, int hidden, float eps) {
  __shared__ float partial[kRmsNormLanes];
  const float* row_x = x + static_cast<int64_t>(blockIdx.x) * hidden;
  float* row_y = y + static_cast<int64_t>(blockIdx.x) * hidden;
  const int lane = threadIdx.x;
  partial[lane] = rmsnorm_lane_sum(row_x, hidden, lane);
  __syncthreads();
  for (int offset = kRmsNormLanes / 2; offset > 0; offset /= 2) {
    if (lane < offset) partial[lane] += partial[lane + offset];
    __syncthreads();
  }
  const float inv_rms = rmsnorm_inv_rms(partial[0], hidden, eps);
  for (int i = lane; i < hidden; i += kRmsNormLanes) {
    row_y[i] = rmsnorm_scale(row_x[i], inv_rms, weight[i]);
  }
}

}  // namespace

cudaError_t rmsnorm_launch(const float* x, const float* weight, float* y, int rows, int hidden,
                           float eps, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  rmsnorm_kernel<<<rows, kRmsNormLanes, 0, stream>>>(x, weight, y, hidden, eps);
  return cudaGetLastError();
}

}  // namespace llmbatch::kernels
