// What a model is: the fields of a Hugging Face config.json that decide the
// forward pass, for the Llama family (Llama, Mistral, Qwen2). Anything in a
// config that would change the math and is not implemented is refused with
// UnsupportedError, never ignored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/dtype.h"

namespace llmbatch {

enum class Architecture { Llama, Mistral, Qwen2 };

enum class RopeScalingType { None, Linear, Llama3 };

struct RopeScaling {
  RopeScalingType type = RopeScalingType::None;
  double factor = 1.0;                      // linear and llama3
  double low_freq_factor = 1.0;             // llama3
  double high_freq_factor = 4.0;            // llama3
  int64_t original_max_position_embeddings = 8192;  // llama3
};

struct ModelConfig {
  Architecture architecture = Architecture::Llama;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;  // < num_attention_heads: GQA; 1: MQA
  int64_t head_dim = 0;             // config's head_dim, else hidden / heads
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  int64_t max_position_embeddings = 2048;
  bool tie_word_embeddings = false;
  bool qkv_bias = false;  // Qwen2; Llama's attention_bias
  bool o_bias = false;    // Llama's attention_bias also biases o_proj
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;
  DType torch_dtype = DType::F32;

  int64_t q_size() const { return num_attention_heads * head_dim; }
  int64_t kv_size() const { return num_key_value_heads * head_dim; }
  // K and V of one token across all layers, stored in `kv_dtype`.
  int64_t kv_bytes_per_token(DType kv_dtype) const {
    return 2 * num_hidden_layers * kv_size() * static_cast<int64_t>(dtype_size(kv_dtype));
  }
};

// "LlamaForCausalLM" etc.
std::string architecture_name(Architecture a);
std::string rope_scaling_name(RopeScalingType t);

// Parses a config.json object. `file` names it in errors.
ModelConfig model_config_from_json(const nlohmann::json& json, const std::string& file);
// Reads `path` (a config.json).
ModelConfig model_config_load(const std::string& path);
// The config.json object for `config`, as Hugging Face writes it;
// model_config_from_json(model_config_to_json(c)) == c.
nlohmann::json model_config_to_json(const ModelConfig& config);

bool operator==(const RopeScaling& a, const RopeScaling& b);
bool operator==(const ModelConfig& a, const ModelConfig& b);

}  // namespace llmbatch
