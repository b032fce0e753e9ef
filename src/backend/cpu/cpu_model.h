// The CPU backend: a Llama-family decoder over a paged KV cache.
//
// Per step:  x = embed(tokens)                               [T, hidden]
//   per layer:  h = rmsnorm(x);  qkv = h·Wqkvᵀ (+b)          [T, q + 2 kv]
//               RoPE on q, k;  k, v -> cache slots
//               a = paged_attention(q, cache)                 [T, q]
//               x += a·Woᵀ (+b)
//               h = rmsnorm(x);  gu = h·[Wg;Wu]ᵀ              [T, 2 ffn]
//               x += (silu(g) * u)·Wdᵀ
//   logits of the wanted rows: rmsnorm(x_r)·W_headᵀ, in chunks.
// q/k/v and gate/up are fused into one GEMM each; the residual stream stays
// in f32. Every op works per row or per (sequence, head) in an order that
// does not depend on the batch (see linear.h, attention.h, vec.h).
#pragma once

#include <memory>
#include <vector>

#include "backend/backend.h"
#include "backend/cpu/attention.h"
#include "backend/cpu/linear.h"
#include "backend/cpu/rope.h"
#include "kv/kv_storage.h"

namespace llmbatch {

// Where a step's time went (seconds, summed over steps since reset):
// attention is the attention kernel; rope_kv the per-token bias, RoPE and
// KV-cache write before it; other the norms, SwiGLU, residuals and copies.
struct CpuStepProfile {
  double gemm = 0, attention = 0, rope_kv = 0, other = 0;
  int64_t steps = 0;
  double total() const { return gemm + attention + rope_kv + other; }
};

class CpuModel : public Backend {
 public:
  CpuModel(const ModelConfig& config, const WeightSet& weights, const BackendOptions& options);

  void forward(const StepBatch& batch, LogitsSink& sink) override;
  std::string describe() const override;

  const CpuStepProfile& profile() const { return profile_; }
  void reset_profile() { profile_ = {}; }

 private:
  struct Layer {
    std::vector<float> input_norm, post_attention_norm;  // [hidden]
    std::vector<float> qkv_bias, o_bias;                  // empty when the model has none
    Linear qkv, o, gate_up, down;
  };

  Layer load_layer(const WeightSet& weights, int64_t layer, DType compute);
  void embed(const StepBatch& batch, float* x) const;
  // `plan`: the step's attention work items, planned once per step.
  void attention_block(const Layer& layer, int64_t index, const StepBatch& batch, const AttentionPlan& plan,
                       float* x);
  void mlp_block(const Layer& layer, int64_t tokens, float* x);
  // One token's k and v (from its fused qkv row) into KV slot `slot`.
  void store_kv(int64_t layer, int64_t slot, const float* qkv_row);
  void emit_logits(const StepBatch& batch, const float* x, LogitsSink& sink);

  ModelConfig config_;
  BackendOptions options_;
  DType embed_dtype_;
  std::vector<uint8_t> embed_;  // [vocab, hidden] in embed_dtype_
  HugePageArena weights_arena_{"the packed weights",  // the Linears' memory: outlives them
                               "free memory, or run fewer ranks per node"};
  std::vector<Layer> layers_;
  std::vector<float> final_norm_;
  std::unique_ptr<Linear> lm_head_;
  RopeTable rope_;
  AttentionShape attention_shape_;
  KvStorage kv_;
  // Step scratch, grown as needed: [T, width] each.
  std::vector<float> h_, qkv_, q_, attn_, proj_, gate_up_, act_;
  // Per token of the step: its position and its KV slot.
  std::vector<int64_t> token_positions_, token_slots_;
  CpuStepProfile profile_;
};

}  // namespace llmbatch
