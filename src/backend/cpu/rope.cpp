#include "backend/cpu/rope.h"

#include <cmath>
#include <numbers>

#include "core/error.h"

namespace llmbatch {

std::vector<double> rope_inv_freq(const ModelConfig& config) {
  const int64_t dim = config.head_dim;
  std::vector<double> inv_freq(dim / 2);
  for (int64_t i = 0; i < dim / 2; ++i) {
    inv_freq[i] = 1.0 / std::pow(config.rope_theta, static_cast<double>(2 * i) / dim);
  }
  const RopeScaling& s = config.rope_scaling;
  switch (s.type) {
    case RopeScalingType::None:
      break;
    case RopeScalingType::Linear:
      for (double& f : inv_freq) f /= s.factor;
      break;
    case RopeScalingType::Llama3: {
      // Long wavelengths are slowed by `factor`, short ones kept, and the
      // band between blended smoothly (Llama 3.1's context extension).
      const double old_len = static_cast<double>(s.original_max_position_embeddings);
      const double low_freq_wavelen = old_len / s.low_freq_factor;
      const double high_freq_wavelen = old_len / s.high_freq_factor;
      for (double& f : inv_freq) {
        const double wavelen = 2 * std::numbers::pi / f;
        if (wavelen > low_freq_wavelen) {
          f /= s.factor;
        } else if (wavelen >= high_freq_wavelen) {
          const double smooth = (old_len / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
          f = (1 - smooth) * f / s.factor + smooth * f;
        }
      }
      break;
    }
  }
  return inv_freq;
}

RopeTable::RopeTable(const ModelConfig& config, int64_t max_positions)
    : half_(config.head_dim / 2), max_positions_(max_positions) {
  const auto inv_freq = rope_inv_freq(config);
  cos_.resize(max_positions * half_);
  sin_.resize(max_positions * half_);
  for (int64_t p = 0; p < max_positions; ++p) {
    for (int64_t i = 0; i < half_; ++i) {
      const double angle = static_cast<double>(p) * inv_freq[i];
      cos_[p * half_ + i] = static_cast<float>(std::cos(angle));
      sin_[p * half_ + i] = static_cast<float>(std::sin(angle));
    }
  }
}

void RopeTable::apply(float* x, int64_t num_heads, int64_t position) const {
  LLMBATCH_CHECK(position >= 0 && position < max_positions_, "position outside the RoPE table");
  const float* c = &cos_[position * half_];
  const float* s = &sin_[position * half_];
  for (int64_t h = 0; h < num_heads; ++h) {
    float* head = x + h * 2 * half_;
    for (int64_t i = 0; i < half_; ++i) {
      const float x1 = head[i], x2 = head[i + half_];
      head[i] = x1 * c[i] - x2 * s[i];
      head[i + half_] = x2 * c[i] + x1 * s[i];
    }
  }
}

}  // namespace llmbatch
