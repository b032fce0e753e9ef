#include "core/dtype.h"

#include <cstring>

#include "core/error.h"

namespace llmbatch {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F16: return 2;
    case DType::BF16: return 2;
  }
  throw InternalError("bad DType value");
}

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
  }
  throw InternalError("bad DType value");
}

bool dtype_parse(std::string_view text, DType* out) {
  struct Spelling { std::string_view text; DType type; };
  static constexpr Spelling kSpellings[] = {
      {"F32", DType::F32},  {"float32", DType::F32},  {"f32", DType::F32},
      {"F16", DType::F16},  {"float16", DType::F16},  {"f16", DType::F16},
      {"BF16", DType::BF16}, {"bfloat16", DType::BF16}, {"bf16", DType::BF16},
  };
  for (const auto& s : kSpellings) {
    if (s.text == text) {
      *out = s.type;
      return true;
    }
  }
  return false;
}

void dtype_to_f32(DType t, const void* src, float* dst, size_t n) {
  switch (t) {
    case DType::F32:
      std::memcpy(dst, src, n * sizeof(float));
      return;
    case DType::F16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (size_t i = 0; i < n; ++i) dst[i] = f16_to_f32(s[i]);
      return;
    }
    case DType::BF16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (size_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(s[i]);
      return;
    }
  }
}

void dtype_from_f32(DType t, const float* src, void* dst, size_t n) {
  switch (t) {
    case DType::F32:
      std::memcpy(dst, src, n * sizeof(float));
      return;
    case DType::F16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (size_t i = 0; i < n; ++i) d[i] = f32_to_f16(src[i]);
      return;
    }
    case DType::BF16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (size_t i = 0; i < n; ++i) d[i] = f32_to_bf16(src[i]);
      return;
    }
  }
}

}  // namespace llmbatch
