#include "model/random_model.h"

#include <cmath>
#include <cstring>
#include <filesystem>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "model/model_dir.h"
#include "model/weight_layout.h"
#include "model_test_util.h"

namespace llmbatch {
namespace {

namespace fs = std::filesystem;
using test::message_of;

RandomModelOptions options(const ModelConfig& config, uint64_t seed = 5, int threads = 1) {
  RandomModelOptions o;
  o.config = config;
  o.seed = seed;
  o.threads = threads;
  return o;
}

RandomModelOptions tiny(DType dtype = DType::F32, uint64_t seed = 5) {
  auto config = random_preset_config("tiny");
  config.torch_dtype = dtype;
  return options(config, seed);
}

// Every file of a model directory, by name.
std::map<std::string, std::string> dir_contents(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out[e.path().filename().string()] = test::read_file(e.path());
  return out;
}

// A tensor's elements converted to f32.
std::vector<float> values_of(const TensorStore& store, const std::string& name) {
  const auto& t = store.get(name);
  const auto bytes = store.bytes(name);
  std::vector<float> out(t.numel());
  dtype_to_f32(t.dtype, bytes.data(), out.data(), out.size());
  return out;
}

// Checks every stored element against random_weight_value rounded to the
// stored dtype, bit for bit.
void expect_values_match_definition(const RandomModelOptions& o, const std::string& dir) {
  const auto store = TensorStore::open(dir);
  const auto expected = expected_tensors(o.config);
  for (uint32_t index = 0; index < expected.size(); ++index) {
    const auto& name = expected[index].name;
    if (!store.find(name)) continue;  // a tied head
    SCOPED_TRACE(name);
    const auto& t = store.get(name);
    ASSERT_EQ(t.dtype, o.config.torch_dtype);
    const auto bytes = store.bytes(name);
    const size_t size = dtype_size(t.dtype);
    for (int64_t i = 0; i < t.numel(); ++i) {
      const float v = random_weight_value(o, name, index, i);
      uint8_t want[4];
      dtype_from_f32(t.dtype, &v, want, 1);
      ASSERT_EQ(std::memcmp(bytes.data() + i * size, want, size), 0) << "element " << i;
    }
  }
}

struct Moments {
  double mean = 0, stddev = 0;
};
Moments moments(const std::vector<float>& v) {
  double sum = 0, sq = 0;
  for (float x : v) sum += x;
  const double mean = sum / v.size();
  for (float x : v) sq += (x - mean) * (x - mean);
  return {mean, std::sqrt(sq / v.size())};
}

TEST(RandomModelTest, PresetNames) {
  EXPECT_EQ(random_preset_names(), (std::vector<std::string>{"tiny", "smollm135m", "llama1b", "llama8b"}));
}

TEST(RandomModelTest, PresetShapesFollowTheIssue) {
  const auto smol = random_preset_config("smollm135m");
  EXPECT_EQ(smol.vocab_size, 49152);
  EXPECT_EQ(smol.hidden_size, 576);
  EXPECT_EQ(smol.intermediate_size, 1536);
  EXPECT_EQ(smol.num_hidden_layers, 30);
  EXPECT_EQ(smol.num_attention_heads, 9);
  EXPECT_EQ(smol.num_key_value_heads, 3);
  EXPECT_TRUE(smol.tie_word_embeddings);

  const auto l1b = random_preset_config("llama1b");  // Llama-3.2-1B
  EXPECT_EQ(l1b.vocab_size, 128256);
  EXPECT_EQ(l1b.hidden_size, 2048);
  EXPECT_EQ(l1b.intermediate_size, 8192);
  EXPECT_EQ(l1b.num_hidden_layers, 16);
  EXPECT_EQ(l1b.num_attention_heads, 32);
  EXPECT_EQ(l1b.num_key_value_heads, 8);
  EXPECT_EQ(l1b.rope_scaling.type, RopeScalingType::Llama3);
  EXPECT_EQ(l1b.rope_scaling.factor, 32.0);
  EXPECT_TRUE(l1b.tie_word_embeddings);

  const auto l8b = random_preset_config("llama8b");  // Llama-3.1-8B
  EXPECT_EQ(l8b.hidden_size, 4096);
  EXPECT_EQ(l8b.intermediate_size, 14336);
  EXPECT_EQ(l8b.num_hidden_layers, 32);
  EXPECT_EQ(l8b.rope_scaling.factor, 8.0);
  EXPECT_FALSE(l8b.tie_word_embeddings);

  const auto t = random_preset_config("tiny");
  EXPECT_LT(parameter_count(t) * 4, 1'000'000);  // < 1 MB even in f32
  EXPECT_LT(t.num_key_value_heads, t.num_attention_heads);  // keeps GQA
}

TEST(RandomModelTest, UnknownPresetListsTheKnownOnes) {
  const auto e = test::thrown<ConfigError>([] { random_preset_config("llama70b"); });
  ASSERT_TRUE(e);
  EXPECT_CONTAINS(e->what(), "llama70b");
  for (const auto& name : random_preset_names()) EXPECT_CONTAINS(e->what(), name);
}

TEST(RandomModelTest, WritesACompleteModelDirectory) {
  const test::TempDir dir;
  const auto o = tiny();
  random_model_write(o, dir.str());
  const auto files = dir_contents(dir.str());
  EXPECT_EQ(files.size(), 3u);
  EXPECT_TRUE(files.contains("model.safetensors"));
  EXPECT_EQ(model_config_load(dir.file("config.json")), o.config);
  const auto generation = nlohmann::json::parse(files.at("generation_config.json"));
  EXPECT_EQ(generation["bos_token_id"], 1);
  EXPECT_EQ(generation["eos_token_id"], nlohmann::json({2}));
}

TEST(RandomModelTest, SameSeedSameBytesOtherSeedOtherWeights) {
  const test::TempDir a, b, c, d;
  random_model_write(tiny(DType::BF16, 7), a.str());
  random_model_write(tiny(DType::BF16, 7), b.str());
  random_model_write(tiny(DType::BF16, 8), c.str());
  // Seeds that differ only in the high 32 bits differ too.
  random_model_write(tiny(DType::BF16, 7 + (uint64_t{1} << 32)), d.str());
  const auto ca = dir_contents(a.str());
  EXPECT_EQ(ca, dir_contents(b.str()));
  for (const auto* other : {&c, &d}) {
    const auto co = dir_contents(other->str());
    EXPECT_NE(co.at("model.safetensors"), ca.at("model.safetensors"));
    EXPECT_EQ(co.at("config.json"), ca.at("config.json"));
    EXPECT_EQ(co.at("model.safetensors").size(), ca.at("model.safetensors").size());
  }
}

TEST(RandomModelTest, ThreadCountDoesNotChangeTheBytes) {
  const test::TempDir one, two, three;
  auto o = tiny();
  random_model_write(o, one.str());
  o.threads = 2;
  random_model_write(o, two.str());
  o.threads = 3;
  random_model_write(o, three.str());
  EXPECT_EQ(dir_contents(one.str()), dir_contents(two.str()));
  EXPECT_EQ(dir_contents(one.str()), dir_contents(three.str()));
}

TEST(RandomModelTest, ValuesAreTheDefinitionInEveryDtype) {
  for (const DType dtype : {DType::F32, DType::F16, DType::BF16}) {
    SCOPED_TRACE(dtype_name(dtype));
    const test::TempDir dir;
    const auto o = tiny(dtype);
    random_model_write(o, dir.str());
    EXPECT_EQ(model_config_load(dir.file("config.json")).torch_dtype, dtype);
    expect_values_match_definition(o, dir.str());
  }
}

TEST(RandomModelTest, OddSizesAndThreadSplits) {
  // Tensors whose sizes are not multiples of 4 (elements come four per
  // Philox block) split over thread counts that do not divide them.
  ModelConfig c;
  c.vocab_size = 7;
  c.hidden_size = 6;
  c.intermediate_size = 10;
  c.num_hidden_layers = 1;
  c.num_attention_heads = 1;
  c.num_key_value_heads = 1;
  c.head_dim = 6;
  std::string first;
  for (const int threads : {1, 2, 3, 5}) {
    const test::TempDir dir;
    const auto o = options(c, 99, threads);
    random_model_write(o, dir.str());
    expect_values_match_definition(o, dir.str());
    const auto bytes = test::read_file(dir.file("model.safetensors"));
    if (first.empty()) first = bytes;
    EXPECT_EQ(bytes, first) << threads << " threads";
  }
}

TEST(RandomModelTest, TensorsLargerThanOneGenerationStep) {
  // 65,537 x 64 = 4,194,368 elements: past 2^22, so the writer fills this
  // tensor in more than one chunk. Checked around the seam and sparsely.
  ModelConfig c = random_preset_config("tiny");
  c.vocab_size = 65537;
  c.tie_word_embeddings = true;
  c.torch_dtype = DType::BF16;
  const test::TempDir dir;
  const auto o = options(c, 3, 2);
  random_model_write(o, dir.str());
  const auto store = TensorStore::open(dir.str());
  const auto values = values_of(store, "model.embed_tokens.weight");
  ASSERT_EQ(values.size(), 65537u * 64);
  const auto expect_element = [&](size_t i) {
    ASSERT_EQ(values[i], bf16_to_f32(f32_to_bf16(random_weight_value(o, "model.embed_tokens.weight", 0, i))))
        << "element " << i;
  };
  const size_t seam = size_t{1} << 22;
  for (size_t i = seam - 16; i < values.size(); ++i) expect_element(i);  // the seam and the tail
  for (size_t i = 0; i < seam; i += 997) expect_element(i);
}

TEST(RandomModelTest, WeightsAreNormalWithTheRequestedSpread) {
  for (const double init_std : {0.02, 0.1}) {
    SCOPED_TRACE(init_std);
    const test::TempDir dir;
    auto o = tiny();
    o.init_std = init_std;
    random_model_write(o, dir.str());
    const auto store = TensorStore::open(dir.str());
    // 32,768 draws: the sample mean is within 4 standard errors (0.022 sd)
    // of 0, the sample sd within a few percent of init_std.
    const auto embed = moments(values_of(store, "model.embed_tokens.weight"));
    EXPECT_NEAR(embed.mean, 0.0, 0.025 * init_std);
    EXPECT_NEAR(embed.stddev, init_std, 0.03 * init_std);
    const auto up = moments(values_of(store, "model.layers.1.mlp.up_proj.weight"));
    EXPECT_NEAR(up.mean, 0.0, 0.04 * init_std);  // 8,192 draws
    EXPECT_NEAR(up.stddev, init_std, 0.03 * init_std);
    // Norm weights: 1 + noise (all five norm tensors, 320 draws).
    std::vector<float> norms;
    for (const auto* t : store.tensors()) {
      if (t->name.ends_with("norm.weight")) {
        const auto v = values_of(store, t->name);
        norms.insert(norms.end(), v.begin(), v.end());
      }
    }
    ASSERT_EQ(norms.size(), 5u * 64);
    const auto norm = moments(norms);
    EXPECT_NEAR(norm.mean, 1.0, 0.25 * init_std);
    EXPECT_NEAR(norm.stddev, init_std, 0.15 * init_std);
  }
}

TEST(RandomModelTest, StreamsDifferBetweenTensors) {
  const auto o = tiny();
  int same = 0;
  for (uint64_t i = 0; i < 256; ++i) {
    same += random_weight_value(o, "model.layers.0.mlp.up_proj.weight", 11, i) ==
            random_weight_value(o, "model.layers.1.mlp.up_proj.weight", 20, i);
  }
  EXPECT_EQ(same, 0);
  // The value is a pure function of its arguments.
  EXPECT_EQ(random_weight_value(o, "x", 3, 12345), random_weight_value(o, "x", 3, 12345));
  // A norm weight is 1 + the same draw as a plain weight.
  EXPECT_FLOAT_EQ(random_weight_value(o, "model.norm.weight", 4, 9), 1.0f + random_weight_value(o, "w", 4, 9));
}

TEST(RandomModelTest, ShardedOutputOpensAsAModel) {
  const test::TempDir dir;
  auto o = tiny(DType::F16);
  o.shard_size = 100'000;
  random_model_write(o, dir.str());
  const auto model = model_dir_open(dir.str());
  EXPECT_GT(model.tensors.num_files(), 2u);
  EXPECT_TRUE(fs::exists(dir.file("model.safetensors.index.json")));
  EXPECT_FALSE(fs::exists(dir.file("model.safetensors")));
  EXPECT_EQ(model.config, o.config);
  expect_values_match_definition(o, dir.str());
  // A shard size below every tensor: one tensor per shard.
  const test::TempDir each;
  o.shard_size = 1;
  random_model_write(o, each.str());
  EXPECT_EQ(model_dir_open(each.str()).tensors.num_files(), 21u);
}

TEST(RandomModelTest, OutputDirectoryMustBeNewOrEmpty) {
  const test::TempDir dir;
  test::write_file(dir.file("keep.txt"), "x");
  const auto e = test::thrown<ConfigError>([&] { random_model_write(tiny(), dir.str()); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->context().file, dir.str());
  EXPECT_EQ(test::read_file(dir.file("keep.txt")), "x");
  EXPECT_FALSE(fs::exists(dir.file("config.json")));
  // A regular file where the directory should go is a user error too.
  const auto on_file = test::thrown<ConfigError>([&] { random_model_write(tiny(), dir.file("keep.txt")); });
  ASSERT_TRUE(on_file);
  EXPECT_EQ(test::read_file(dir.file("keep.txt")), "x");
  // An empty directory, or one not there yet (with parents), is fine.
  const test::TempDir empty;
  EXPECT_NO_THROW(random_model_write(tiny(), empty.str()));
  EXPECT_NO_THROW(random_model_write(tiny(), empty.file("a/b")));
  EXPECT_TRUE(fs::exists(empty.file("a/b/model.safetensors")));
}

TEST(RandomModelTest, InitStdMustBeSane) {
  const test::TempDir dir;
  for (const double bad : {0.0, -0.02, 10.0, std::nan("")}) {
    auto o = tiny();
    o.init_std = bad;
    EXPECT_CONTAINS(message_of<ConfigError>([&] { random_model_write(o, dir.str()); }), "init_std");
  }
  EXPECT_TRUE(fs::is_empty(dir.str()));
}

}  // namespace
}  // namespace llmbatch
