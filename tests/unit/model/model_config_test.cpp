#include "model/model_config.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "hf_configs.h"
#include "model/random_model.h"
#include "model_test_util.h"

namespace llmbatch {
namespace {

using test::message_of;
using test::thrown;

ModelConfig parse(const nlohmann::json& json) { return model_config_from_json(json, "config.json"); }
ModelConfig parse(const char* text) { return parse(nlohmann::json::parse(text)); }

// A config with `key` set to `value` (null stays in the object: the parser
// treats it as absent).
nlohmann::json with(nlohmann::json json, const std::string& key, const nlohmann::json& value) {
  json[key] = value;
  return json;
}
nlohmann::json with(const char* base, const std::string& key, const nlohmann::json& value) {
  return with(nlohmann::json::parse(base), key, value);
}

nlohmann::json without(const char* base, const std::string& key) {
  auto json = nlohmann::json::parse(base);
  json.erase(key);
  return json;
}

// The error thrown for `json` is E and names `key`.
template <typename E>
std::string expect_error(const nlohmann::json& json, const std::string& key) {
  const auto e = thrown<E>([&] { parse(json); });
  if (!e) return "";
  EXPECT_EQ(e->context().file, "config.json");
  EXPECT_EQ(e->context().key, key) << e->what();
  return e->what();
}

TEST(ModelConfigTest, Llama32_1B) {
  const auto c = parse(test::kLlama32_1B);
  EXPECT_EQ(c.architecture, Architecture::Llama);
  EXPECT_EQ(c.vocab_size, 128256);
  EXPECT_EQ(c.hidden_size, 2048);
  EXPECT_EQ(c.intermediate_size, 8192);
  EXPECT_EQ(c.num_hidden_layers, 16);
  EXPECT_EQ(c.num_attention_heads, 32);
  EXPECT_EQ(c.num_key_value_heads, 8);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_EQ(c.rope_theta, 500000.0);
  EXPECT_EQ(c.rope_scaling.type, RopeScalingType::Llama3);
  EXPECT_EQ(c.rope_scaling.factor, 32.0);
  EXPECT_EQ(c.rope_scaling.low_freq_factor, 1.0);
  EXPECT_EQ(c.rope_scaling.high_freq_factor, 4.0);
  EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 8192);
  EXPECT_EQ(c.max_position_embeddings, 131072);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_FALSE(c.qkv_bias);
  EXPECT_FALSE(c.o_bias);
  EXPECT_EQ(c.bos_token_id, 128000);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{128001}));
  EXPECT_EQ(c.torch_dtype, DType::BF16);
  EXPECT_EQ(c.q_size(), 2048);
  EXPECT_EQ(c.kv_size(), 512);
}

TEST(ModelConfigTest, Llama31_8B_InstructHasEosList) {
  const auto c = parse(test::kLlama31_8B_Instruct);
  EXPECT_EQ(c.architecture, Architecture::Llama);
  EXPECT_EQ(c.hidden_size, 4096);
  EXPECT_EQ(c.intermediate_size, 14336);
  EXPECT_EQ(c.num_hidden_layers, 32);
  EXPECT_EQ(c.num_key_value_heads, 8);
  EXPECT_EQ(c.head_dim, 128);  // not in the file: hidden / heads
  EXPECT_EQ(c.rope_scaling.type, RopeScalingType::Llama3);
  EXPECT_EQ(c.rope_scaling.factor, 8.0);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{128001, 128008, 128009}));
  // Llama 3 8B's well-known KV footprint: 128 KiB per token in bf16.
  EXPECT_EQ(c.kv_bytes_per_token(DType::BF16), 128 * 1024);
  EXPECT_EQ(c.kv_bytes_per_token(DType::F32), 256 * 1024);
}

TEST(ModelConfigTest, Qwen25_05BHasQkvBiasAndNoWindow) {
  const auto c = parse(test::kQwen25_05B);
  EXPECT_EQ(c.architecture, Architecture::Qwen2);
  EXPECT_EQ(c.vocab_size, 151936);
  EXPECT_EQ(c.hidden_size, 896);
  EXPECT_EQ(c.intermediate_size, 4864);
  EXPECT_EQ(c.num_hidden_layers, 24);
  EXPECT_EQ(c.num_attention_heads, 14);
  EXPECT_EQ(c.num_key_value_heads, 2);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.rms_norm_eps, 1e-6);
  EXPECT_EQ(c.rope_theta, 1000000.0);
  EXPECT_EQ(c.rope_scaling.type, RopeScalingType::None);
  EXPECT_EQ(c.max_position_embeddings, 32768);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_FALSE(c.o_bias);
  EXPECT_EQ(c.bos_token_id, 151643);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{151643}));
  // Larger Qwen2.5 configs (7B-Instruct) carry sliding_window 131072.
  EXPECT_NO_THROW(parse(with(test::kQwen25_05B, "sliding_window", 131072)));
}

TEST(ModelConfigTest, Qwen2WindowCountsOnlyWhenEnabled) {
  // use_sliding_window false: a short window is ignored, as transformers does.
  EXPECT_NO_THROW(parse(with(test::kQwen25_05B, "sliding_window", 4096)));
  auto json = with(test::kQwen25_05B, "sliding_window", 4096);
  json["use_sliding_window"] = true;
  EXPECT_CONTAINS(expect_error<UnsupportedError>(json, "sliding_window"), "sliding window");
  // Enabled but as long as the context: the same as full attention.
  json["sliding_window"] = 32768;
  EXPECT_NO_THROW(parse(json));
}

TEST(ModelConfigTest, Mistral7B_v03NullWindow) {
  const auto c = parse(test::kMistral7B_v03);
  EXPECT_EQ(c.architecture, Architecture::Mistral);
  EXPECT_EQ(c.vocab_size, 32768);
  EXPECT_EQ(c.num_key_value_heads, 8);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.rope_theta, 1000000.0);
  EXPECT_EQ(c.max_position_embeddings, 32768);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_FALSE(c.qkv_bias);
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{2}));
}

TEST(ModelConfigTest, Mistral7B_v01SlidingWindowIsUnsupported) {
  const auto what = expect_error<UnsupportedError>(nlohmann::json::parse(test::kMistral7B_v01), "sliding_window");
  EXPECT_CONTAINS(what, "unsupported");
  EXPECT_CONTAINS(what, "4096");
  EXPECT_CONTAINS(what, "32768");
}

TEST(ModelConfigTest, MistralWithoutAWindowKeyHasTheDefaultWindow) {
  // transformers' MistralConfig defaults sliding_window to 4096; only an
  // explicit null turns it off.
  auto json = without(test::kMistral7B_v03, "sliding_window");
  EXPECT_CONTAINS(expect_error<UnsupportedError>(json, "sliding_window"), "4096");
  json["max_position_embeddings"] = 4096;  // the window covers every position
  EXPECT_NO_THROW(parse(json));
  // Written back, a Mistral config says "no window" in a way transformers reads.
  const auto written = model_config_to_json(parse(test::kMistral7B_v03));
  ASSERT_TRUE(written.contains("sliding_window"));
  EXPECT_TRUE(written["sliding_window"].is_null());
}

TEST(ModelConfigTest, TinyLlama) {
  const auto c = parse(test::kTinyLlama);
  EXPECT_EQ(c.vocab_size, 32000);
  EXPECT_EQ(c.hidden_size, 2048);
  EXPECT_EQ(c.intermediate_size, 5632);
  EXPECT_EQ(c.num_hidden_layers, 22);
  EXPECT_EQ(c.num_attention_heads, 32);
  EXPECT_EQ(c.num_key_value_heads, 4);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.rope_scaling.type, RopeScalingType::None);  // "rope_scaling": null
  EXPECT_EQ(c.max_position_embeddings, 2048);
  EXPECT_EQ(c.kv_bytes_per_token(DType::F16), 2 * 22 * 4 * 64 * 2);
}

TEST(ModelConfigTest, SmolLM135M) {
  const auto c = parse(test::kSmolLM135M);
  EXPECT_EQ(c.vocab_size, 49152);
  EXPECT_EQ(c.hidden_size, 576);
  EXPECT_EQ(c.intermediate_size, 1536);
  EXPECT_EQ(c.num_hidden_layers, 30);
  EXPECT_EQ(c.num_attention_heads, 9);
  EXPECT_EQ(c.num_key_value_heads, 3);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.torch_dtype, DType::F32);
  EXPECT_EQ(c.bos_token_id, 0);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{0}));
}

TEST(ModelConfigTest, RopeScalingKindsBeyondLlama3AreUnsupported) {
  const std::vector<nlohmann::json> refused = {
      {{"rope_type", "yarn"}, {"factor", 4.0}, {"original_max_position_embeddings", 32768}},
      {{"type", "dynamic"}, {"factor", 2.0}},
      {{"rope_type", "longrope"}, {"long_factor", {1.0, 2.0}}, {"short_factor", {1.0, 1.0}}},
  };
  for (const auto& rs : refused) {
    const auto name = rs.value("rope_type", rs.value("type", std::string()));
    const auto what = expect_error<UnsupportedError>(with(test::kTinyLlama, "rope_scaling", rs), "rope_scaling");
    EXPECT_CONTAINS(what, "'" + name + "'");
  }
}

TEST(ModelConfigTest, LinearAndDefaultRopeScaling) {
  const auto linear = parse(with(test::kTinyLlama, "rope_scaling", {{"type", "linear"}, {"factor", 2.0}}));
  EXPECT_EQ(linear.rope_scaling.type, RopeScalingType::Linear);
  EXPECT_EQ(linear.rope_scaling.factor, 2.0);
  // Newer files write rope_type; "default" means no scaling.
  const auto plain = parse(with(test::kTinyLlama, "rope_scaling", {{"rope_type", "default"}}));
  EXPECT_EQ(plain.rope_scaling.type, RopeScalingType::None);
  expect_error<ConfigError>(with(test::kTinyLlama, "rope_scaling", {{"type", "linear"}}), "rope_scaling.factor");
  expect_error<ConfigError>(with(test::kTinyLlama, "rope_scaling", {{"factor", 2.0}}), "rope_scaling");
  expect_error<ConfigError>(with(test::kTinyLlama, "rope_scaling", "linear"), "rope_scaling");
}

TEST(ModelConfigTest, Llama3ScalingNeedsAllItsFields) {
  for (const char* field : {"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"}) {
    auto json = nlohmann::json::parse(test::kLlama32_1B);
    json["rope_scaling"].erase(field);
    const auto what = expect_error<ConfigError>(json, std::string("rope_scaling.") + field);
    EXPECT_CONTAINS(what, "is missing");
  }
  auto json = nlohmann::json::parse(test::kLlama32_1B);
  json["rope_scaling"]["high_freq_factor"] = 1.0;  // not above low_freq_factor
  expect_error<ConfigError>(json, "rope_scaling.high_freq_factor");
}

TEST(ModelConfigTest, UnknownArchitectures) {
  auto what = expect_error<UnsupportedError>(
      with(test::kTinyLlama, "architectures", {"GemmaForCausalLM"}), "architectures");
  EXPECT_CONTAINS(what, "GemmaForCausalLM");
  expect_error<ConfigError>(with(test::kTinyLlama, "architectures", {"LlamaForCausalLM", "Other"}), "architectures");
  expect_error<ConfigError>(with(test::kTinyLlama, "architectures", nlohmann::json::array()), "architectures");
  expect_error<ConfigError>(with(test::kTinyLlama, "architectures", "LlamaForCausalLM"), "architectures");
}

TEST(ModelConfigTest, ModelTypeIsTheFallback) {
  auto json = without(test::kMistral7B_v03, "architectures");
  EXPECT_EQ(parse(json).architecture, Architecture::Mistral);
  json["model_type"] = "qwen2";
  EXPECT_EQ(parse(json).architecture, Architecture::Qwen2);
  json["architectures"] = nullptr;  // null: same as absent
  json["model_type"] = "llama";
  EXPECT_EQ(parse(json).architecture, Architecture::Llama);
  json["model_type"] = "gpt2";
  EXPECT_CONTAINS(expect_error<UnsupportedError>(json, "model_type"), "gpt2");
  json.erase("model_type");
  EXPECT_THROW(parse(json), ConfigError);
}

TEST(ModelConfigTest, OtherActivationsAndMlpBiasAreUnsupported) {
  EXPECT_CONTAINS(expect_error<UnsupportedError>(with(test::kTinyLlama, "hidden_act", "gelu"), "hidden_act"), "gelu");
  EXPECT_NO_THROW(parse(without(test::kTinyLlama, "hidden_act")));  // silu by default
  expect_error<UnsupportedError>(with(test::kLlama32_1B, "mlp_bias", true), "mlp_bias");
  EXPECT_NO_THROW(parse(with(test::kLlama32_1B, "mlp_bias", false)));
}

TEST(ModelConfigTest, RequiredFieldsMissingNegativeOrMistyped) {
  for (const char* key : {"vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                          "rms_norm_eps", "max_position_embeddings"}) {
    SCOPED_TRACE(key);
    EXPECT_CONTAINS(expect_error<ConfigError>(without(test::kTinyLlama, key), key), "is missing");
    expect_error<ConfigError>(with(test::kTinyLlama, key, -8), key);
    expect_error<ConfigError>(with(test::kTinyLlama, key, 0), key);
    expect_error<ConfigError>(with(test::kTinyLlama, key, "64"), key);
  }
  expect_error<ConfigError>(with(test::kTinyLlama, "hidden_size", 2048.5), "hidden_size");
  expect_error<ConfigError>(with(test::kTinyLlama, "num_key_value_heads", 0), "num_key_value_heads");
  expect_error<ConfigError>(with(test::kTinyLlama, "rope_theta", -1.0), "rope_theta");
  expect_error<ConfigError>(with(test::kTinyLlama, "tie_word_embeddings", "yes"), "tie_word_embeddings");
  expect_error<ConfigError>(with(test::kTinyLlama, "attention_bias", 1), "attention_bias");
  expect_error<ConfigError>(with(test::kTinyLlama, "eos_token_id", "2"), "eos_token_id");
  expect_error<ConfigError>(with(test::kTinyLlama, "torch_dtype", 16), "torch_dtype");
  EXPECT_THROW(parse("[]"), ConfigError);
}

TEST(ModelConfigTest, DefaultsForOptionalFields) {
  auto json = without(test::kTinyLlama, "rope_theta");
  for (const char* key : {"tie_word_embeddings", "attention_bias", "bos_token_id", "eos_token_id", "torch_dtype",
                          "rope_scaling", "num_key_value_heads"}) {
    json.erase(key);
  }
  const auto c = parse(json);
  EXPECT_EQ(c.rope_theta, 10000.0);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_FALSE(c.qkv_bias);
  EXPECT_EQ(c.bos_token_id, std::nullopt);
  EXPECT_TRUE(c.eos_token_ids.empty());
  EXPECT_EQ(c.torch_dtype, DType::F32);  // transformers loads float32 without a dtype
  EXPECT_EQ(c.rope_scaling.type, RopeScalingType::None);
  EXPECT_EQ(c.num_key_value_heads, c.num_attention_heads);  // no GQA key: multi-head attention
}

TEST(ModelConfigTest, GroupedQueryHeadsMustDivide) {
  EXPECT_CONTAINS(expect_error<ConfigError>(with(test::kTinyLlama, "num_key_value_heads", 5), "num_key_value_heads"),
                  "multiple");
  // More KV heads than query heads cannot be grouped either.
  expect_error<ConfigError>(with(test::kTinyLlama, "num_key_value_heads", 64), "num_key_value_heads");
  const auto mqa = parse(with(test::kTinyLlama, "num_key_value_heads", 1));
  EXPECT_EQ(mqa.num_key_value_heads, 1);
  EXPECT_EQ(mqa.kv_size(), 64);
}

TEST(ModelConfigTest, HeadDim) {
  // Given explicitly, head_dim need not be hidden / heads (Gemma-style shapes).
  auto json = with(test::kTinyLlama, "head_dim", 256);
  json["num_attention_heads"] = 16;
  json["num_key_value_heads"] = 4;
  const auto c = parse(json);
  EXPECT_EQ(c.head_dim, 256);
  EXPECT_EQ(c.q_size(), 4096);
  EXPECT_EQ(c.kv_size(), 1024);
  // Not given and hidden not divisible by heads: no way to tell.
  json = with(test::kTinyLlama, "num_attention_heads", 24);
  json["num_key_value_heads"] = 4;
  expect_error<ConfigError>(json, "head_dim");
  json["head_dim"] = 128;
  EXPECT_EQ(parse(json).head_dim, 128);
  json["head_dim"] = nullptr;  // null: derived, and 2048 / 24 does not divide
  expect_error<ConfigError>(json, "head_dim");
}

TEST(ModelConfigTest, OddHeadDimCannotRotate) {
  expect_error<ConfigError>(with(test::kTinyLlama, "head_dim", 63), "head_dim");
  // Derived odd: 9 heads of 7.
  auto json = with(test::kSmolLM135M, "hidden_size", 63);
  json["num_key_value_heads"] = 3;
  EXPECT_CONTAINS(expect_error<ConfigError>(json, "head_dim"), "7");
}

TEST(ModelConfigTest, BosAndEosIntOrList) {
  const auto list = parse(with(test::kTinyLlama, "eos_token_id", {2, 32000}));
  EXPECT_EQ(list.eos_token_ids, (std::vector<int64_t>{2, 32000}));
  EXPECT_EQ(list.bos_token_id, 1);
  expect_error<ConfigError>(with(test::kTinyLlama, "bos_token_id", {1, 2}), "bos_token_id");
  expect_error<ConfigError>(with(test::kTinyLlama, "eos_token_id", {2, "x"}), "eos_token_id");
  const auto nulls = parse(with(with(test::kTinyLlama, "eos_token_id", nullptr), "bos_token_id", nullptr));
  EXPECT_EQ(nulls.bos_token_id, std::nullopt);
  EXPECT_TRUE(nulls.eos_token_ids.empty());
}

TEST(ModelConfigTest, DtypeUnderEitherKey) {
  // transformers >= 4.56 writes "dtype"; older versions "torch_dtype".
  auto json = without(test::kTinyLlama, "torch_dtype");
  json["dtype"] = "float16";
  EXPECT_EQ(parse(json).torch_dtype, DType::F16);
  json["dtype"] = "bfloat16";
  EXPECT_EQ(parse(json).torch_dtype, DType::BF16);
  EXPECT_EQ(parse(with(test::kTinyLlama, "torch_dtype", "float32")).torch_dtype, DType::F32);
  EXPECT_CONTAINS(expect_error<UnsupportedError>(with(test::kTinyLlama, "torch_dtype", "float64"), "torch_dtype"),
                  "float64");
  json["dtype"] = "int8";
  EXPECT_CONTAINS(expect_error<UnsupportedError>(json, "dtype"), "int8");  // names the key the file uses
}

TEST(ModelConfigTest, AttentionBiasOnLlamaBiasesAllFourProjections) {
  const auto c = parse(with(test::kTinyLlama, "attention_bias", true));
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_TRUE(c.o_bias);  // transformers' LlamaAttention gives o_proj the same bias flag
}

TEST(ModelConfigTest, Names) {
  EXPECT_EQ(architecture_name(Architecture::Llama), "LlamaForCausalLM");
  EXPECT_EQ(architecture_name(Architecture::Mistral), "MistralForCausalLM");
  EXPECT_EQ(architecture_name(Architecture::Qwen2), "Qwen2ForCausalLM");
  EXPECT_EQ(rope_scaling_name(RopeScalingType::None), "none");
  EXPECT_EQ(rope_scaling_name(RopeScalingType::Linear), "linear");
  EXPECT_EQ(rope_scaling_name(RopeScalingType::Llama3), "llama3");
}

TEST(ModelConfigTest, LoadReadsAFileAndNamesIt) {
  const test::TempDir dir;
  test::write_file(dir.file("config.json"), test::kQwen25_05B);
  EXPECT_EQ(model_config_load(dir.file("config.json")), parse(test::kQwen25_05B));
  EXPECT_THROW(model_config_load(dir.file("absent.json")), IoError);
  test::write_file(dir.file("gemma.json"), with(test::kTinyLlama, "architectures", {"GemmaForCausalLM"}).dump());
  const auto e = thrown<UnsupportedError>([&] { model_config_load(dir.file("gemma.json")); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->context().file, dir.file("gemma.json"));
}

TEST(ModelConfigTest, ToJsonWritesHuggingFaceKeys) {
  const auto j = model_config_to_json(parse(test::kLlama31_8B_Instruct));
  EXPECT_EQ(j["architectures"], nlohmann::json({"LlamaForCausalLM"}));
  EXPECT_EQ(j["model_type"], "llama");
  EXPECT_EQ(j["hidden_size"], 4096);
  EXPECT_EQ(j["head_dim"], 128);
  EXPECT_EQ(j["hidden_act"], "silu");
  EXPECT_EQ(j["torch_dtype"], "bfloat16");
  EXPECT_EQ(j["eos_token_id"], nlohmann::json({128001, 128008, 128009}));
  EXPECT_EQ(j["rope_scaling"]["rope_type"], "llama3");
  EXPECT_EQ(j["rope_scaling"]["original_max_position_embeddings"], 8192);
  EXPECT_EQ(model_config_to_json(parse(test::kQwen25_05B))["model_type"], "qwen2");
  EXPECT_EQ(model_config_to_json(parse(test::kTinyLlama))["eos_token_id"], 2);
  EXPECT_TRUE(model_config_to_json(parse(test::kTinyLlama))["rope_scaling"].is_null());
}

TEST(ModelConfigTest, ToJsonRoundTrips) {
  std::vector<ModelConfig> configs;
  for (const auto& name : random_preset_names()) configs.push_back(random_preset_config(name));
  for (const char* text : {test::kLlama32_1B, test::kLlama31_8B_Instruct, test::kQwen25_05B, test::kMistral7B_v03,
                           test::kTinyLlama, test::kSmolLM135M}) {
    configs.push_back(parse(text));
  }
  configs.push_back(parse(with(test::kTinyLlama, "rope_scaling", {{"type", "linear"}, {"factor", 4.0}})));
  configs.push_back(parse(with(test::kTinyLlama, "attention_bias", true)));
  configs.push_back(parse(with(test::kTinyLlama, "torch_dtype", "float16")));
  for (const auto& c : configs) {
    // Through text, as config.json is written and read back.
    const auto text = model_config_to_json(c).dump(2);
    EXPECT_EQ(parse(text.c_str()), c) << text;
  }
}

TEST(ModelConfigTest, EqualityComparesEveryField) {
  const auto base = parse(test::kLlama32_1B);
  EXPECT_EQ(base, parse(test::kLlama32_1B));
  const std::vector<std::pair<const char*, nlohmann::json>> changes = {
      {"vocab_size", 128257}, {"hidden_size", 4096}, {"intermediate_size", 8193}, {"num_hidden_layers", 15},
      {"num_attention_heads", 16}, {"num_key_value_heads", 4}, {"head_dim", 128}, {"rms_norm_eps", 1e-6},
      {"rope_theta", 10000.0}, {"max_position_embeddings", 8192}, {"tie_word_embeddings", false},
      {"attention_bias", true}, {"bos_token_id", 1}, {"eos_token_id", 128009}, {"torch_dtype", "float16"},
      {"rope_scaling", nullptr}};
  for (const auto& [key, value] : changes) {
    EXPECT_FALSE(parse(with(test::kLlama32_1B, key, value)) == base) << key;
  }
  const auto mistral = with(with(test::kLlama32_1B, "architectures", {"MistralForCausalLM"}), "sliding_window", nullptr);
  EXPECT_FALSE(parse(mistral) == base);
  auto scaled = nlohmann::json::parse(test::kLlama32_1B);
  for (const char* field : {"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"}) {
    auto changed = scaled;
    auto& value = changed["rope_scaling"][field];
    value = value.is_number_integer() ? nlohmann::json(value.get<int64_t>() * 2) : nlohmann::json(value.get<double>() * 2);
    EXPECT_FALSE(parse(changed) == base) << field;
  }
  // Without scaling, the unused scaling numbers do not matter.
  RopeScaling a, b;
  b.factor = 3.0;
  EXPECT_TRUE(a == b);
  b.type = RopeScalingType::Linear;
  a.type = RopeScalingType::Linear;
  EXPECT_FALSE(a == b);
}

TEST(ModelConfigTest, KvBytesPerToken) {
  // K and V, per layer, per KV head, per head dim: 2 * 16 * 8 * 64 elements.
  const auto c = parse(test::kLlama32_1B);
  EXPECT_EQ(c.kv_bytes_per_token(DType::BF16), 2 * 16 * 8 * 64 * 2);
  EXPECT_EQ(c.kv_bytes_per_token(DType::F16), 32768);
  EXPECT_EQ(c.kv_bytes_per_token(DType::F32), 65536);
  // Multi-head attention (no GQA) costs heads / kv_heads times more.
  EXPECT_EQ(parse(with(test::kLlama32_1B, "num_key_value_heads", 32)).kv_bytes_per_token(DType::BF16), 4 * 32768);
}

}  // namespace
}  // namespace llmbatch
