#include "model/model_summary.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "model/random_model.h"
#include "model_test_util.h"

namespace llmbatch {
namespace {

// Hand counts for the tiny preset (vocab 512, hidden 64, FFN 128, 2 layers,
// 4 query heads and 2 KV heads of 16):
//   embed / head 512 x 64 = 32,768 each
//   per layer: q 64x64 + k 32x64 + v 32x64 + o 64x64 = 12,288,
//              gate/up/down 3 x 128x64 = 24,576, two norms 128 -> 36,992
//   final norm 64
constexpr int64_t kEmbed = 32'768;
constexpr int64_t kLayer = 36'992;
constexpr int64_t kTinyUntied = 2 * kEmbed + 2 * kLayer + 64;  // 139,584

ModelDir write_and_open(const test::TempDir& dir, DType dtype, bool tied, uint64_t shard_size) {
  RandomModelOptions o;
  o.config = random_preset_config("tiny");
  o.config.torch_dtype = dtype;
  o.config.tie_word_embeddings = tied;
  o.shard_size = shard_size;
  o.threads = 1;
  random_model_write(o, dir.str());
  return model_dir_open(dir.str());
}

TEST(ModelSummaryTest, TinyF32) {
  const test::TempDir dir;
  const auto s = model_summary(write_and_open(dir, DType::F32, false, 0));
  EXPECT_EQ(s.parameters, kTinyUntied);
  EXPECT_EQ(s.bytes_by_dtype, (std::map<std::string, uint64_t>{{"F32", kTinyUntied * 4}}));
  EXPECT_EQ(s.stored_bytes, kTinyUntied * 4u);
  EXPECT_EQ(s.num_tensors, 1 + 2 * 9 + 2u);
  EXPECT_EQ(s.num_files, 1u);
  // K and V x 2 layers x 2 KV heads x 16 dims = 128 values per token.
  EXPECT_EQ(s.kv_bytes_per_token_bf16, 128 * 2);
  EXPECT_EQ(s.kv_bytes_per_token_f32, 128 * 4);
}

TEST(ModelSummaryTest, TiedShardedBf16) {
  const test::TempDir dir;
  const auto s = model_summary(write_and_open(dir, DType::BF16, true, 60'000));
  EXPECT_EQ(s.parameters, kTinyUntied - kEmbed);  // no lm_head
  EXPECT_EQ(s.bytes_by_dtype, (std::map<std::string, uint64_t>{{"BF16", (kTinyUntied - kEmbed) * 2}}));
  EXPECT_EQ(s.stored_bytes, (kTinyUntied - kEmbed) * 2u);
  EXPECT_EQ(s.num_tensors, 20u);
  // Shards of at most 60,000 bytes: the 65,536-byte embedding alone, and
  // two 73,984-byte layers plus the norm over three more.
  size_t shards = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.str())) shards += e.path().extension() == ".safetensors";
  EXPECT_EQ(shards, 4u);
  EXPECT_EQ(s.num_files, 4u);
}

TEST(ModelSummaryTest, MixedDtypesAndAStoredTiedHead) {
  // A hand-made checkpoint: norms and embeddings in F32, matrices in BF16,
  // and a tied config whose file still carries lm_head.weight (stored, but
  // not counted as parameters).
  const test::TempDir dir;
  ModelConfig c;
  c.vocab_size = 8;
  c.hidden_size = 4;
  c.intermediate_size = 8;
  c.num_hidden_layers = 1;
  c.num_attention_heads = 2;
  c.num_key_value_heads = 1;
  c.head_dim = 2;
  c.rms_norm_eps = 1e-5;
  c.tie_word_embeddings = true;
  test::write_file(dir.file("config.json"), model_config_to_json(c).dump());
  test::write_zero_safetensors(dir.file("model.safetensors"),
                               {
                                   {"model.embed_tokens.weight", DType::F32, {8, 4}},                        // 128 B
                                   {"model.layers.0.input_layernorm.weight", DType::F32, {4}},               // 16 B
                                   {"model.layers.0.self_attn.q_proj.weight", DType::BF16, {4, 4}},          // 32 B
                                   {"model.layers.0.self_attn.k_proj.weight", DType::BF16, {2, 4}},          // 16 B
                                   {"model.layers.0.self_attn.v_proj.weight", DType::BF16, {2, 4}},          // 16 B
                                   {"model.layers.0.self_attn.o_proj.weight", DType::BF16, {4, 4}},          // 32 B
                                   {"model.layers.0.post_attention_layernorm.weight", DType::F32, {4}},      // 16 B
                                   {"model.layers.0.mlp.gate_proj.weight", DType::BF16, {8, 4}},             // 64 B
                                   {"model.layers.0.mlp.up_proj.weight", DType::BF16, {8, 4}},               // 64 B
                                   {"model.layers.0.mlp.down_proj.weight", DType::BF16, {4, 8}},             // 64 B
                                   {"model.norm.weight", DType::F32, {4}},                                   // 16 B
                                   {"lm_head.weight", DType::F16, {8, 4}},                                   // 64 B
                               });
  const auto s = model_summary(model_dir_open(dir.str()));
  EXPECT_EQ(s.parameters, 32 + 4 + 16 + 8 + 8 + 16 + 4 + 3 * 32 + 4);
  EXPECT_EQ(s.bytes_by_dtype,
            (std::map<std::string, uint64_t>{{"F32", 128 + 16 + 16 + 16}, {"BF16", 32 + 16 + 16 + 32 + 3 * 64}, {"F16", 64}}));
  EXPECT_EQ(s.stored_bytes, 176u + 288u + 64u);
  EXPECT_EQ(s.num_tensors, 12u);
  EXPECT_EQ(s.num_files, 1u);
  EXPECT_EQ(s.kv_bytes_per_token_bf16, 2 * 1 * 1 * 2 * 2);
  EXPECT_EQ(s.kv_bytes_per_token_f32, 2 * 1 * 1 * 2 * 4);
}

}  // namespace
}  // namespace llmbatch
