#include "model/weight_layout.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "hf_configs.h"
#include "model/random_model.h"
#include "model_test_util.h"

namespace llmbatch {
namespace {

using test::thrown;

ModelConfig parse(const char* text) { return model_config_from_json(nlohmann::json::parse(text), "config.json"); }

// A model small enough to list by hand: hidden 4, two query heads of 2 on
// one KV head, FFN 8, vocab 8, `layers` layers.
ModelConfig micro_config(int64_t layers = 1, bool tied = false) {
  ModelConfig c;
  c.vocab_size = 8;
  c.hidden_size = 4;
  c.intermediate_size = 8;
  c.num_hidden_layers = layers;
  c.num_attention_heads = 2;
  c.num_key_value_heads = 1;
  c.head_dim = 2;
  c.tie_word_embeddings = tied;
  return c;
}

// The tensors of micro_config(1, false) as a Hugging Face Llama checkpoint
// names and shapes them.
std::vector<TensorDecl> micro_tensors() {
  return {
      {"model.embed_tokens.weight", DType::F32, {8, 4}},
      {"model.layers.0.input_layernorm.weight", DType::F32, {4}},
      {"model.layers.0.self_attn.q_proj.weight", DType::F32, {4, 4}},
      {"model.layers.0.self_attn.k_proj.weight", DType::F32, {2, 4}},
      {"model.layers.0.self_attn.v_proj.weight", DType::F32, {2, 4}},
      {"model.layers.0.self_attn.o_proj.weight", DType::F32, {4, 4}},
      {"model.layers.0.post_attention_layernorm.weight", DType::F32, {4}},
      {"model.layers.0.mlp.gate_proj.weight", DType::F32, {8, 4}},
      {"model.layers.0.mlp.up_proj.weight", DType::F32, {8, 4}},
      {"model.layers.0.mlp.down_proj.weight", DType::F32, {4, 8}},
      {"model.norm.weight", DType::F32, {4}},
      {"lm_head.weight", DType::F32, {8, 4}},
  };
}

std::vector<TensorDecl> without(std::vector<TensorDecl> tensors, const std::string& name) {
  std::erase_if(tensors, [&](const TensorDecl& t) { return t.name == name; });
  return tensors;
}

// Validates `config` against a store holding `tensors`; the error text, or
// "" when it passes.
std::string validate(const ModelConfig& config, const std::vector<TensorDecl>& tensors) {
  const test::TempDir dir;
  test::write_zero_safetensors(dir.file("model.safetensors"), tensors);
  try {
    validate_tensors(config, TensorStore::open(dir.str()), "models/micro");
  } catch (const ModelFormatError& e) {
    EXPECT_EQ(e.context().file, "models/micro");
    return e.what();
  }
  return "";
}

TEST(WeightLayoutTest, LayerTensorName) {
  EXPECT_EQ(layer_tensor_name(3, "mlp.up_proj.weight"), "model.layers.3.mlp.up_proj.weight");
  EXPECT_EQ(layer_tensor_name(0, "input_layernorm.weight"), "model.layers.0.input_layernorm.weight");
  EXPECT_EQ(layer_tensor_name(31, "self_attn.o_proj.weight"), "model.layers.31.self_attn.o_proj.weight");
}

TEST(WeightLayoutTest, ExpectedTensorsOfALlamaLayer) {
  const auto expected = expected_tensors(micro_config());
  const auto reference = micro_tensors();
  ASSERT_EQ(expected.size(), reference.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(expected[i].name, reference[i].name);
    EXPECT_EQ(expected[i].shape, reference[i].shape) << reference[i].name;
    EXPECT_TRUE(expected[i].required) << reference[i].name;
  }
  // A tied model may omit the head.
  const auto tied = expected_tensors(micro_config(1, true));
  EXPECT_EQ(tied.back().name, "lm_head.weight");
  EXPECT_FALSE(tied.back().required);
  // Layers repeat in order, each with nine tensors.
  const auto three = expected_tensors(micro_config(3));
  EXPECT_EQ(three.size(), 1 + 3 * 9 + 2u);
  EXPECT_EQ(three[1 + 2 * 9].name, "model.layers.2.input_layernorm.weight");
}

TEST(WeightLayoutTest, BiasesOfQwen2AndLlamaAttentionBias) {
  auto qwen = micro_config();
  qwen.architecture = Architecture::Qwen2;
  qwen.qkv_bias = true;
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& e : expected_tensors(qwen)) shapes[e.name] = e.shape;
  EXPECT_EQ(shapes.at("model.layers.0.self_attn.q_proj.bias"), (std::vector<int64_t>{4}));
  EXPECT_EQ(shapes.at("model.layers.0.self_attn.k_proj.bias"), (std::vector<int64_t>{2}));
  EXPECT_EQ(shapes.at("model.layers.0.self_attn.v_proj.bias"), (std::vector<int64_t>{2}));
  EXPECT_FALSE(shapes.contains("model.layers.0.self_attn.o_proj.bias"));

  auto llama = micro_config();
  llama.qkv_bias = llama.o_bias = true;
  shapes.clear();
  for (const auto& e : expected_tensors(llama)) shapes[e.name] = e.shape;
  EXPECT_EQ(shapes.at("model.layers.0.self_attn.o_proj.bias"), (std::vector<int64_t>{4}));
  EXPECT_EQ(shapes.size(), micro_tensors().size() + 4);
}

TEST(WeightLayoutTest, ParameterCountsOfThePresetsArePublishedOnes) {
  // Model cards: SmolLM-135M 134,515,008; Llama-3.2-1B 1,235,814,400;
  // Llama-3.1-8B 8,030,261,248.
  EXPECT_EQ(parameter_count(random_preset_config("smollm135m")), 134'515'008);
  EXPECT_EQ(parameter_count(random_preset_config("llama1b")), 1'235'814'400);
  EXPECT_EQ(parameter_count(random_preset_config("llama8b")), 8'030'261'248);
  // tiny: embed 512x64 twice (untied) + 2 layers of 36,992 + final norm 64.
  EXPECT_EQ(parameter_count(random_preset_config("tiny")), 2 * 32'768 + 2 * 36'992 + 64);
}

TEST(WeightLayoutTest, ParameterCountsOfPublishedConfigs) {
  EXPECT_EQ(parameter_count(parse(test::kSmolLM135M)), 134'515'008);
  EXPECT_EQ(parameter_count(parse(test::kLlama32_1B)), 1'235'814'400);
  EXPECT_EQ(parameter_count(parse(test::kLlama31_8B_Instruct)), 8'030'261'248);
  EXPECT_EQ(parameter_count(parse(test::kQwen25_05B)), 494'032'768);  // with the q/k/v biases
  EXPECT_EQ(parameter_count(parse(test::kMistral7B_v03)), 7'248'023'552);
  EXPECT_EQ(parameter_count(parse(test::kTinyLlama)), 1'100'048'384);
}

TEST(WeightLayoutTest, ACompleteStorePasses) {
  EXPECT_EQ(validate(micro_config(), micro_tensors()), "");
}

TEST(WeightLayoutTest, EveryProblemInOneError) {
  auto tensors = without(micro_tensors(), "model.layers.0.self_attn.q_proj.weight");
  tensors.push_back({"model.layers.0.self_attn.extra.weight", DType::F32, {4}});
  tensors.push_back({"model.layers.1.input_layernorm.weight", DType::F32, {4}});
  for (auto& t : tensors) {
    if (t.name == "model.layers.0.self_attn.k_proj.weight") t.shape = {4, 4};
    if (t.name == "lm_head.weight") t.shape = {4, 8};  // transposed
  }
  const auto what = validate(micro_config(), tensors);
  EXPECT_CONTAINS(what, "5 tensor problem(s)");
  EXPECT_CONTAINS(what, "missing model.layers.0.self_attn.q_proj.weight [4, 4]");
  EXPECT_CONTAINS(what, "unexpected model.layers.0.self_attn.extra.weight");
  EXPECT_CONTAINS(what, "unexpected model.layers.1.input_layernorm.weight");
  EXPECT_CONTAINS(what, "wrong shape model.layers.0.self_attn.k_proj.weight: [4, 4], expected [2, 4]");
  EXPECT_CONTAINS(what, "wrong shape lm_head.weight: [4, 8], expected [8, 4]");
}

TEST(WeightLayoutTest, LongListsAreCut) {
  // 30 expected tensors missing and one unexpected: 25 listed, 6 counted.
  const auto what = validate(micro_config(3), {{"stray", DType::F32, {1}}});
  EXPECT_CONTAINS(what, "31 tensor problem(s)");
  EXPECT_CONTAINS(what, "... and 6 more");
  EXPECT_CONTAINS(what, "missing model.embed_tokens.weight");
  EXPECT_EQ(what.find("unexpected stray"), std::string::npos);  // the 31st
}

TEST(WeightLayoutTest, TiedHeadMayBePresentOrAbsent) {
  EXPECT_EQ(validate(micro_config(1, true), micro_tensors()), "");
  EXPECT_EQ(validate(micro_config(1, true), without(micro_tensors(), "lm_head.weight")), "");
  auto wrong = micro_tensors();
  wrong.back().shape = {9, 4};
  EXPECT_CONTAINS(validate(micro_config(1, true), wrong), "wrong shape lm_head.weight");
  // Untied, the head is required.
  EXPECT_CONTAINS(validate(micro_config(), without(micro_tensors(), "lm_head.weight")), "missing lm_head.weight");
}

TEST(WeightLayoutTest, RotaryInverseFrequenciesAreIgnored) {
  auto tensors = micro_tensors();
  tensors.push_back({"model.layers.0.self_attn.rotary_emb.inv_freq", DType::F32, {1}});
  EXPECT_EQ(validate(micro_config(), tensors), "");
  // Only under that name: another stray rotary tensor is reported.
  tensors.push_back({"model.rotary_emb.cos_cached", DType::F32, {2}});
  EXPECT_CONTAINS(validate(micro_config(), tensors), "unexpected model.rotary_emb.cos_cached");
}

TEST(WeightLayoutTest, Qwen2BiasesAreRequired) {
  auto qwen = micro_config();
  qwen.architecture = Architecture::Qwen2;
  qwen.qkv_bias = true;
  const auto what = validate(qwen, micro_tensors());
  EXPECT_CONTAINS(what, "3 tensor problem(s)");
  EXPECT_CONTAINS(what, "missing model.layers.0.self_attn.q_proj.bias [4]");
  EXPECT_CONTAINS(what, "missing model.layers.0.self_attn.k_proj.bias [2]");
  EXPECT_CONTAINS(what, "missing model.layers.0.self_attn.v_proj.bias [2]");

  auto with_biases = micro_tensors();
  with_biases.push_back({"model.layers.0.self_attn.q_proj.bias", DType::BF16, {4}});
  with_biases.push_back({"model.layers.0.self_attn.k_proj.bias", DType::BF16, {2}});
  with_biases.push_back({"model.layers.0.self_attn.v_proj.bias", DType::BF16, {2}});
  EXPECT_EQ(validate(qwen, with_biases), "");
  // Qwen2 has no o_proj bias: one in the file is unexpected.
  with_biases.push_back({"model.layers.0.self_attn.o_proj.bias", DType::BF16, {4}});
  EXPECT_CONTAINS(validate(qwen, with_biases), "unexpected model.layers.0.self_attn.o_proj.bias");
}

}  // namespace
}  // namespace llmbatch
