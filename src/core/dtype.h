// Element types of weights, activations and KV, and the f16/bf16 <-> f32
// conversions. The conversions round to nearest, ties to even, and keep
// NaN (quiet, sign kept), Inf and subnormals exact where the format allows;
// they are inline because the backend calls them per element.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace llmbatch {

enum class DType : uint8_t { F32, F16, BF16 };

size_t dtype_size(DType t);
// "F32" / "F16" / "BF16": the safetensors spelling.
std::string_view dtype_name(DType t);
// Accepts safetensors spellings (F32, F16, BF16) and config spellings
// (float32, float16, bfloat16, f32, f16, bf16). nullopt-like: returns false.
bool dtype_parse(std::string_view text, DType* out);

inline float bf16_to_f32(uint16_t h) { return std::bit_cast<float>(uint32_t{h} << 16); }

inline uint16_t f32_to_bf16(float f) {
  uint32_t bits = std::bit_cast<uint32_t>(f);
  if ((bits & 0x7fffffffu) > 0x7f800000u) {  // NaN: truncating could make it Inf
    return static_cast<uint16_t>((bits >> 16) | 0x0040u);
  }
  // Adding 0x7fff plus the lowest kept bit rounds half to even; a carry into
  // the exponent is the correct rounding up to the next binade or to Inf.
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

inline float f16_to_f32(uint16_t h) {
  const uint32_t sign = uint32_t{h & 0x8000u} << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0x1f) {  // Inf / NaN: keep the payload
    return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));
  }
  if (exp != 0) {
    return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));
  }
  if (mant == 0) return std::bit_cast<float>(sign);
  // Subnormal f16: value = mant * 2^-24, normal in f32.
  const int shift = std::countl_zero(mant) - 21;  // bring the leading 1 to bit 10
  mant = (mant << shift) & 0x3ffu;
  return std::bit_cast<float>(sign | (uint32_t(113 - shift) << 23) | (mant << 13));
}

inline uint16_t f32_to_f16(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t abs = bits & 0x7fffffffu;
  if (abs > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u | ((abs >> 13) & 0x3ffu));
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to >= 65520: Inf
  const int exp = static_cast<int>(abs >> 23) - 127;
  if (exp >= -14) {  // normal f16
    uint32_t v = abs - (112u << 23);  // rebias exponent 127 -> 15
    v += 0xfffu + ((v >> 13) & 1u);   // round half to even at bit 13
    return static_cast<uint16_t>(sign | (v >> 13));
  }
  if (exp < -25) return sign;  // below half the smallest subnormal: +-0
  // Subnormal f16: shift the full mantissa (with its implicit 1) right.
  const uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
  const int shift = -exp - 1;  // 14..24, keeps value / 2^-24
  const uint32_t kept = mant >> shift;
  const uint32_t rest = mant & ((1u << shift) - 1);
  const uint32_t half = 1u << (shift - 1);
  const uint32_t rounded = kept + ((rest > half || (rest == half && (kept & 1u))) ? 1u : 0u);
  return static_cast<uint16_t>(sign | rounded);
}

// Converts n elements of `src` (in dtype `t`) to f32.
void dtype_to_f32(DType t, const void* src, float* dst, size_t n);
// Converts n f32 values to dtype `t`.
void dtype_from_f32(DType t, const float* src, void* dst, size_t n);

}  // namespace llmbatch
