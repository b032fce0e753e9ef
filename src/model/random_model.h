// Random-weight Hugging Face models (vLLM's "dummy weights"): full model
// directories with real shapes for tests, benchmarks and the demo, written
// without a download. Weights are a pure function of (seed, tensor, element)
// through Philox, so a model is the same on every machine for a seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/model_config.h"

namespace llmbatch {

// Known presets: tiny (unit tests, < 1 MB, GQA), smollm135m, llama1b
// (Llama-3.2-1B shape), llama8b (Llama-3.1-8B shape).
std::vector<std::string> random_preset_names();
// Throws ConfigError for an unknown preset, listing the known ones.
ModelConfig random_preset_config(const std::string& preset);

struct RandomModelOptions {
  ModelConfig config;      // its torch_dtype is the dtype written
  uint64_t seed = 0;
  // Standard deviation of linear and embedding weights (HF's
  // initializer_range). 0.02 keeps logits well-conditioned; ~0.1 makes
  // attention far from uniform, so tests see RoPE or head-mapping bugs.
  double init_std = 0.02;
  uint64_t shard_size = 0;  // bytes per shard; 0: one model.safetensors
  int threads = 0;          // 0: all cores
};

// Writes config.json, generation_config.json and the safetensors weights
// (with model.safetensors.index.json when sharded) into `out_dir`, which
// must not exist or be empty. Throws ConfigError / IoError.
void random_model_write(const RandomModelOptions& options, const std::string& out_dir);

// Element `index` of expected tensor number `tensor_index` of a random model
// (before conversion to the model dtype). Exposed so tests can check written
// files against the definition.
float random_weight_value(const RandomModelOptions& options, const std::string& tensor_name,
                          uint32_t tensor_index, uint64_t index);

}  // namespace llmbatch
