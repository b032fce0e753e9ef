#include "backend/cpu/cpu_features.h"

namespace llmbatch {

bool cpu_supports_avx2_fma() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}

bool cpu_supports_avx512f() {
  static const bool yes = __builtin_cpu_supports("avx512f");
  return yes;
}

bool cpu_supports_avx512_bf16() {
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16");
  return yes;
}

}  // namespace llmbatch
