// The Backend interface: one forward step over a flat token batch, reading
// and writing the paged KV cache the backend keeps. The scheduler owns the
// cache's bookkeeping (KvCache) and hands each step its block tables; the
// backend owns the K/V arrays themselves, wherever its device keeps them.
// Nothing outside src/backend knows which device runs.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "backend/logits_sink.h"
#include "backend/step_batch.h"
#include "backend/weight_set.h"
#include "core/dtype.h"
#include "kv/kv_config.h"
#include "model/model_config.h"

namespace llmbatch {

struct BackendOptions {
  // How weights are held for the GEMMs (activations and accumulation are
  // f32): nullopt follows the checkpoint (BF16 stays BF16, F16 and F32 become
  // F32); BF16 halves f32 weights (model.dtype: bf16); F32 widens bf16 ones.
  std::optional<DType> weight_dtype;
  DType kv_dtype = DType::BF16;
  int64_t block_size = 16;
  int64_t num_blocks = 0;       // KV blocks to allocate
  int64_t max_model_len = 4096;  // longest sequence (RoPE table size)
  int threads = 0;               // 0: all cores
};

class Backend {
 public:
  virtual ~Backend() = default;
  // Runs `batch`: performs its block copies, writes the new tokens' K/V at
  // their positions, and delivers the logits of batch.logit_rows to `sink`
  // in ascending order. Throws InternalError for a malformed batch.
  virtual void forward(const StepBatch& batch, LogitsSink& sink) = 0;
  // e.g. "cpu (bf16 GEMM, 2 threads)"
  virtual std::string describe() const = 0;
};

// The KV cache a model needs per token: its layers, KV heads and head_dim,
// stored as kv_dtype.
inline KvLayout kv_layout_of(const ModelConfig& config, DType kv_dtype) {
  return {.num_layers = config.num_hidden_layers,
          .num_kv_heads = config.num_key_value_heads,
          .head_dim = config.head_dim,
          .dtype = kv_dtype};
}

// The CPU backend. `weights` is read during construction only.
std::unique_ptr<Backend> make_cpu_backend(const ModelConfig& config, const WeightSet& weights,
                                          const BackendOptions& options);

}  // namespace llmbatch
