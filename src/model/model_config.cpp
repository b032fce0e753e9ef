#include "model/model_config.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "model/json_reader.h"

namespace llmbatch {
namespace {

struct ArchitectureName {
  Architecture architecture;
  const char* class_name;
  const char* model_type;
};
constexpr ArchitectureName kArchitectures[] = {
    {Architecture::Llama, "LlamaForCausalLM", "llama"},
    {Architecture::Mistral, "MistralForCausalLM", "mistral"},
    {Architecture::Qwen2, "Qwen2ForCausalLM", "qwen2"},
};

Architecture parse_architecture(const nlohmann::json& json, const std::string& file) {
  const auto archs = json.find("architectures");
  if (archs != json.end() && !archs->is_null()) {
    if (!archs->is_array() || archs->size() != 1 || !(*archs)[0].is_string()) {
      throw ConfigError("'architectures' must be a list with one class name, got " + archs->dump(),
                        {.file = file, .key = "architectures"});
    }
    const auto name = (*archs)[0].get<std::string>();
    for (const auto& a : kArchitectures) {
      if (name == a.class_name) return a.architecture;
    }
    throw UnsupportedError("architecture '" + name + "'", {.file = file, .key = "architectures"},
                           "llmbatch runs LlamaForCausalLM, MistralForCausalLM and Qwen2ForCausalLM");
  }
  const auto type = JsonReader(json, file).optional_string("model_type");
  if (!type) {
    throw ConfigError("neither 'architectures' nor 'model_type' is given", {.file = file},
                      "is this a Hugging Face config.json?");
  }
  for (const auto& a : kArchitectures) {
    if (*type == a.model_type) return a.architecture;
  }
  throw UnsupportedError("model_type '" + *type + "'", {.file = file, .key = "model_type"},
                         "llmbatch runs llama, mistral and qwen2 models");
}

RopeScaling parse_rope_scaling(const JsonReader& config) {
  RopeScaling out;
  const auto rs = config.optional_object("rope_scaling");
  if (!rs) return out;
  auto type = rs->optional_string("rope_type");
  if (!type) type = rs->optional_string("type");
  if (!type) {
    throw ConfigError("'rope_scaling' has neither 'rope_type' nor 'type'",
                      {.file = config.file(), .key = "rope_scaling"});
  }
  if (*type == "default") return out;
  if (*type == "linear") {
    out.type = RopeScalingType::Linear;
    out.factor = rs->positive_number("factor");
    return out;
  }
  if (*type == "llama3") {
    out.type = RopeScalingType::Llama3;
    out.factor = rs->positive_number("factor");
    out.low_freq_factor = rs->positive_number("low_freq_factor");
    out.high_freq_factor = rs->positive_number("high_freq_factor");
    out.original_max_position_embeddings = rs->positive_int("original_max_position_embeddings");
    if (out.high_freq_factor <= out.low_freq_factor) {
      throw ConfigError("'rope_scaling.high_freq_factor' must exceed 'low_freq_factor'",
                        {.file = config.file(), .key = "rope_scaling.high_freq_factor"});
    }
    return out;
  }
  throw UnsupportedError("rope_scaling type '" + *type + "'",
                         {.file = config.file(), .key = "rope_scaling"},
                         "supported: none, linear, llama3");
}

void check_unsupported_features(const nlohmann::json& json, const JsonReader& c, const ModelConfig& m) {
  const auto fail = [&](const std::string& what, const std::string& key) {
    throw UnsupportedError(what, {.file = c.file(), .key = key});
  };
  if (const auto act = c.optional_string("hidden_act"); act && *act != "silu") {
    fail("hidden_act '" + *act + "' (llmbatch implements silu)", "hidden_act");
  }
  if (c.optional_bool("mlp_bias").value_or(false)) fail("mlp_bias: true", "mlp_bias");
  // A window shorter than the context changes attention; a window at least
  // as long as every position is the same as full attention.
  const bool window_on = m.architecture != Architecture::Qwen2 || c.optional_bool("use_sliding_window").value_or(false);
  auto window = c.optional_int("sliding_window");
  // transformers' MistralConfig defaults an absent key to 4096 (null: off).
  if (m.architecture == Architecture::Mistral && !json.contains("sliding_window")) window = 4096;
  if (window_on && window && *window < m.max_position_embeddings) {
    fail("sliding window attention (sliding_window " + std::to_string(*window) +
             " < max_position_embeddings " + std::to_string(m.max_position_embeddings) + ")",
         "sliding_window");
  }
}

}  // namespace

std::string architecture_name(Architecture a) {
  for (const auto& entry : kArchitectures) {
    if (entry.architecture == a) return entry.class_name;
  }
  throw InternalError("bad Architecture value");
}

std::string rope_scaling_name(RopeScalingType t) {
  switch (t) {
    case RopeScalingType::None: return "none";
    case RopeScalingType::Linear: return "linear";
    case RopeScalingType::Llama3: return "llama3";
  }
  throw InternalError("bad RopeScalingType value");
}

ModelConfig model_config_from_json(const nlohmann::json& json, const std::string& file) {
  const JsonReader c(json, file);
  ModelConfig m;
  m.architecture = parse_architecture(json, file);
  m.vocab_size = c.positive_int("vocab_size");
  m.hidden_size = c.positive_int("hidden_size");
  m.intermediate_size = c.positive_int("intermediate_size");
  m.num_hidden_layers = c.positive_int("num_hidden_layers");
  m.num_attention_heads = c.positive_int("num_attention_heads");
  m.num_key_value_heads = c.has("num_key_value_heads") ? c.positive_int("num_key_value_heads") : m.num_attention_heads;
  if (m.num_attention_heads % m.num_key_value_heads != 0) {
    throw ConfigError("num_attention_heads (" + std::to_string(m.num_attention_heads) +
                          ") is not a multiple of num_key_value_heads (" +
                          std::to_string(m.num_key_value_heads) + ")",
                      {.file = file, .key = "num_key_value_heads"});
  }
  if (c.has("head_dim")) {
    m.head_dim = c.positive_int("head_dim");
  } else if (m.hidden_size % m.num_attention_heads != 0) {
    throw ConfigError("hidden_size is not a multiple of num_attention_heads and no head_dim is given",
                      {.file = file, .key = "head_dim"});
  } else {
    m.head_dim = m.hidden_size / m.num_attention_heads;
  }
  if (m.head_dim % 2 != 0) {
    throw ConfigError("head_dim must be even for rotary embeddings, got " + std::to_string(m.head_dim),
                      {.file = file, .key = "head_dim"});
  }
  m.rms_norm_eps = c.positive_number("rms_norm_eps");
  m.rope_theta = c.has("rope_theta") ? c.positive_number("rope_theta") : 10000.0;
  m.rope_scaling = parse_rope_scaling(c);
  m.max_position_embeddings = c.positive_int("max_position_embeddings");
  m.tie_word_embeddings = c.optional_bool("tie_word_embeddings").value_or(false);
  if (m.architecture == Architecture::Qwen2) {
    m.qkv_bias = true;  // Qwen2 always has q/k/v biases and no o_proj bias
  } else {
    m.qkv_bias = m.o_bias = c.optional_bool("attention_bias").value_or(false);
  }
  m.bos_token_id = c.optional_int("bos_token_id");
  m.eos_token_ids = c.int_or_int_list("eos_token_id");
  // Newer transformers write "dtype", older "torch_dtype".
  const std::string dtype_key = c.has("torch_dtype") ? "torch_dtype" : "dtype";
  const auto dtype_text = c.optional_string(dtype_key);
  if (dtype_text && !dtype_parse(*dtype_text, &m.torch_dtype)) {
    throw UnsupportedError(dtype_key + " '" + *dtype_text + "'", {.file = file, .key = dtype_key},
                           "supported: float32, float16, bfloat16");
  }
  check_unsupported_features(json, c, m);
  return m;
}

ModelConfig model_config_load(const std::string& path) {
  return model_config_from_json(read_json_file(path), path);
}

nlohmann::json model_config_to_json(const ModelConfig& m) {
  static const char* kModelType[] = {"llama", "mistral", "qwen2"};
  nlohmann::json j = {
      {"architectures", {architecture_name(m.architecture)}},
      {"model_type", kModelType[static_cast<int>(m.architecture)]},
      {"vocab_size", m.vocab_size},
      {"hidden_size", m.hidden_size},
      {"intermediate_size", m.intermediate_size},
      {"num_hidden_layers", m.num_hidden_layers},
      {"num_attention_heads", m.num_attention_heads},
      {"num_key_value_heads", m.num_key_value_heads},
      {"head_dim", m.head_dim},
      {"hidden_act", "silu"},
      {"rms_norm_eps", m.rms_norm_eps},
      {"rope_theta", m.rope_theta},
      {"max_position_embeddings", m.max_position_embeddings},
      {"tie_word_embeddings", m.tie_word_embeddings},
      {"torch_dtype", m.torch_dtype == DType::F32 ? "float32"
                      : m.torch_dtype == DType::F16 ? "float16" : "bfloat16"},
  };
  if (m.architecture != Architecture::Qwen2) j["attention_bias"] = m.qkv_bias;
  if (m.architecture == Architecture::Mistral) j["sliding_window"] = nullptr;  // absent means 4096
  if (m.bos_token_id) j["bos_token_id"] = *m.bos_token_id;
  if (m.eos_token_ids.size() == 1) j["eos_token_id"] = m.eos_token_ids[0];
  if (m.eos_token_ids.size() > 1) j["eos_token_id"] = m.eos_token_ids;
  switch (m.rope_scaling.type) {
    case RopeScalingType::None: j["rope_scaling"] = nullptr; break;
    case RopeScalingType::Linear: j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", m.rope_scaling.factor}}; break;
    case RopeScalingType::Llama3:
      j["rope_scaling"] = {{"rope_type", "llama3"},
                           {"factor", m.rope_scaling.factor},
                           {"low_freq_factor", m.rope_scaling.low_freq_factor},
                           {"high_freq_factor", m.rope_scaling.high_freq_factor},
                           {"original_max_position_embeddings", m.rope_scaling.original_max_position_embeddings}};
      break;
  }
  return j;
}

bool operator==(const RopeScaling& a, const RopeScaling& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case RopeScalingType::None: return true;
    case RopeScalingType::Linear: return a.factor == b.factor;
    case RopeScalingType::Llama3:
      return a.factor == b.factor && a.low_freq_factor == b.low_freq_factor &&
             a.high_freq_factor == b.high_freq_factor &&
             a.original_max_position_embeddings == b.original_max_position_embeddings;
  }
  return false;
}

bool operator==(const ModelConfig& a, const ModelConfig& b) {
  return a.architecture == b.architecture && a.vocab_size == b.vocab_size &&
         a.hidden_size == b.hidden_size && a.intermediate_size == b.intermediate_size &&
         a.num_hidden_layers == b.num_hidden_layers && a.num_attention_heads == b.num_attention_heads &&
         a.num_key_value_heads == b.num_key_value_heads && a.head_dim == b.head_dim &&
         a.rms_norm_eps == b.rms_norm_eps && a.rope_theta == b.rope_theta &&
         a.rope_scaling == b.rope_scaling && a.max_position_embeddings == b.max_position_embeddings &&
         a.tie_word_embeddings == b.tie_word_embeddings && a.qkv_bias == b.qkv_bias &&
         a.o_bias == b.o_bias && a.bos_token_id == b.bos_token_id &&
         a.eos_token_ids == b.eos_token_ids && a.torch_dtype == b.torch_dtype;
}

}  // namespace llmbatch
