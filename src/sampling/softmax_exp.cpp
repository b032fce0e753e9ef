#include "sampling/softmax_exp.h"

#include <limits>

namespace llmbatch {

// Eight running maxima, so the compares vectorize.
__attribute__((target_clones("avx2", "default"))) float max_row(const float* logits, size_t n) {
  float lanes[8];
  for (float& lane : lanes) lane = -std::numeric_limits<float>::infinity();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (size_t j = 0; j < 8; ++j) lanes[j] = logits[i + j] > lanes[j] ? logits[i + j] : lanes[j];
  }
  for (; i < n; ++i) lanes[0] = logits[i] > lanes[0] ? logits[i] : lanes[0];
  float max = lanes[0];
  for (float lane : lanes) max = lane > max ? lane : max;
  return max;
}

// Built with -O3 -fno-trapping-math (CMakeLists.txt): GCC if-converts the
// compares in exp_nonpositive and vectorizes the loop only without FP traps.
__attribute__((target_clones("avx2", "default"))) void exp_row(const float* logits, size_t n, float max, double scale,
                                                               double* out) {
  for (size_t i = 0; i < n; ++i) out[i] = exp_nonpositive((double{logits[i]} - max) * scale);
}

// Four running sums, so the exps vectorize and the adds overlap.
__attribute__((target_clones("avx2", "default"))) double sum_exp_row(const float* logits, size_t n, float max) {
  double lanes[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (size_t j = 0; j < 4; ++j) lanes[j] += exp_nonpositive(double{logits[i + j]} - max);
  }
  for (; i < n; ++i) lanes[0] += exp_nonpositive(double{logits[i]} - max);
  return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
}

}  // namespace llmbatch
