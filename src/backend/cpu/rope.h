// Rotary position embeddings as Hugging Face Llama applies them: the
// "rotate_half" convention (dimension i pairs with i + head_dim/2, not with
// its neighbour), inv_freq = theta^(-2i/d), with linear or llama3 scaling.
// cos/sin are precomputed per position, in double and then rounded, so a
// position's values never depend on the batch.
#pragma once

#include <cstdint>
#include <vector>

#include "model/model_config.h"

namespace llmbatch {

// The per-dimension frequencies after scaling: [head_dim / 2].
std::vector<double> rope_inv_freq(const ModelConfig& config);

class RopeTable {
 public:
  // Tables for positions [0, max_positions).
  RopeTable(const ModelConfig& config, int64_t max_positions);

  int64_t max_positions() const { return max_positions_; }
  int64_t half_dim() const { return half_; }

  // Rotates `num_heads` heads of one token in place. x: [num_heads, head_dim].
  void apply(float* x, int64_t num_heads, int64_t position) const;

 private:
  int64_t half_ = 0;
  int64_t max_positions_ = 0;
  std::vector<float> cos_, sin_;  // [max_positions, half]
};

}  // namespace llmbatch
