// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
// 3", SC'11): a counter-based generator. Output is a pure function of
// (key, counter), so any element of a stream can be drawn in any order, on
// any thread or rank, and always comes out the same. Random weights and,
// later, sampling draws are keyed this way.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>

namespace llmbatch {

using PhiloxKey = std::array<uint32_t, 2>;
using PhiloxCounter = std::array<uint32_t, 4>;

inline PhiloxCounter philox4x32(PhiloxCounter ctr, PhiloxKey key) {
  constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = uint64_t{kMul0} * ctr[0];
    const uint64_t p1 = uint64_t{kMul1} * ctr[2];
    ctr = {static_cast<uint32_t>(p1 >> 32) ^ ctr[1] ^ key[0], static_cast<uint32_t>(p1),
           static_cast<uint32_t>(p0 >> 32) ^ ctr[3] ^ key[1], static_cast<uint32_t>(p0)};
    key[0] += kWeyl0;
    key[1] += kWeyl1;
  }
  return ctr;
}

// A uniform float in (0, 1] from 32 random bits (24 significant bits; never 0,
// so log() is safe).
inline float philox_uniform(uint32_t bits) {
  return static_cast<float>((bits >> 8) + 1) * (1.0f / 16777216.0f);
}

// Two independent standard normals from two uniforms (Box-Muller).
inline std::array<float, 2> philox_normal_pair(uint32_t a, uint32_t b) {
  const float radius = std::sqrt(-2.0f * std::log(philox_uniform(a)));
  const float angle = 6.2831853071795864f * philox_uniform(b);
  return {radius * std::cos(angle), radius * std::sin(angle)};
}

}  // namespace llmbatch
