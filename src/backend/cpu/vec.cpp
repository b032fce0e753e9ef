#include "backend/cpu/vec.h"

#include <cstring>

namespace llmbatch {
namespace {

typedef float Lanes __attribute__((vector_size(32)));  // 8 floats

Lanes load(const float* p) {
  Lanes v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

float vec_dot(const float* a, const float* b, int64_t n) {
  Lanes acc = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) acc += load(a + i) * load(b + i);
  float lanes[8];
  std::memcpy(lanes, &acc, sizeof lanes);
  for (int64_t j = 0; i < n; ++i, ++j) lanes[j] += a[i] * b[i];
  return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
}

void vec_axpy(float alpha, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

void vec_scale(float alpha, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] *= alpha;
}

void vec_add(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

}  // namespace llmbatch
