// The independent reference forward pass that the real backends are checked
// against: a Llama-family decoder (Llama, Mistral, Qwen2) written the
// slowest, plainest way — float64 everywhere, weights converted once from
// their stored dtype, one sequence at a time, K and V kept contiguous, every
// matmul a triple loop. It follows Hugging Face transformers' modeling_llama
// / modeling_qwen2 step by step and is itself checked against transformers
// (tests/fixtures/forward, tools/make-forward-fixtures.sh).
//
// Nothing here may share code with src/backend: a shared bug would hide.
//
// ReferenceOptions can plant known bugs, so a test can show that the
// comparison against transformers is sensitive enough to catch them.
#pragma once

#include <cstdint>
#include <vector>

#include "model/model_config.h"
#include "model/model_dir.h"

namespace llmbatch::reference {

struct ReferenceOptions {
  // Planted bugs, all off for the real reference.
  bool interleaved_rope = false;   // rotate pairs (2i, 2i+1) instead of halves (i, i + d/2)
  bool skip_qkv_bias = false;      // ignore q/k/v (and o) projection biases
  bool modulo_gqa_mapping = false; // query head h reads KV head h % kv_heads, not h / group
  bool ignore_llama3_scaling = false;  // plain inverse frequencies for a llama3 rope_scaling
};

// The inverse rotary frequencies [head_dim / 2] that `config` implies:
// theta^(-2i/d), divided by the factor for linear scaling, and reshaped by
// wavelength for llama3 scaling (transformers' _compute_llama3_parameters).
std::vector<double> rope_inverse_frequencies(const ModelConfig& config, const ReferenceOptions& options = {});

class ReferenceModel {
 public:
  // Converts every weight of `model` to float64 (exact from f32, f16, bf16):
  // 8 bytes per parameter, so ~1 GB for smollm135m.
  explicit ReferenceModel(const ModelDir& model, ReferenceOptions options = {});

  const ModelConfig& config() const { return config_; }

  // log_softmax of the logits at every position of one causal sequence:
  // [tokens.size()][vocab_size]. Row p predicts token p + 1. Throws
  // InputError for a token id outside [0, vocab_size).
  std::vector<std::vector<double>> logprobs(const std::vector<int64_t>& tokens) const;

 private:
  using Matrix = std::vector<double>;  // row-major [rows, cols]
  struct Layer {
    std::vector<double> input_norm;           // [hidden]
    Matrix q, k, v, o;                        // [q_size, hidden], [kv_size, hidden] x2, [hidden, q_size]
    std::vector<double> q_bias, k_bias, v_bias, o_bias;  // empty when the model has none
    std::vector<double> post_norm;            // [hidden]
    Matrix gate, up, down;                    // [ffn, hidden] x2, [hidden, ffn]
  };

  // x [tokens, hidden] -> x + attention(rmsnorm(x)), in place.
  void attention_block(const Layer& layer, std::vector<std::vector<double>>& x) const;
  // x [tokens, hidden] -> x + mlp(rmsnorm(x)), in place.
  void mlp_block(const Layer& layer, std::vector<std::vector<double>>& x) const;
  // Rotates one head vector [head_dim] in place for `position`.
  void apply_rope(double* head, int64_t position) const;

  ModelConfig config_;
  ReferenceOptions options_;
  std::vector<double> inv_freq_;  // [head_dim / 2]
  Matrix embed_;                  // [vocab, hidden]
  std::vector<Layer> layers_;
  std::vector<double> final_norm_;  // [hidden]
  Matrix lm_head_;                  // [vocab, hidden]; a copy of embed_ when tied
};

// One-shot convenience: ReferenceModel(model, options).logprobs(tokens).
std::vector<std::vector<double>> reference_logprobs(const ModelDir& model, const std::vector<int64_t>& tokens,
                                                    const ReferenceOptions& options = {});

}  // namespace llmbatch::reference
