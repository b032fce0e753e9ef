#include "model/model_dir.h"

#include <filesystem>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "model/random_model.h"
#include "model_test_util.h"

namespace llmbatch {
namespace {

namespace fs = std::filesystem;
using test::thrown;

class ModelDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.config = random_preset_config("tiny");
    options_.config.torch_dtype = DType::BF16;
    options_.seed = 1;
    options_.threads = 1;
    random_model_write(options_, dir_.str());
  }
  // Rewrites one key of config.json.
  void set_config(const std::string& key, const nlohmann::json& value) {
    auto json = nlohmann::json::parse(test::read_file(dir_.file("config.json")));
    json[key] = value;
    test::write_file(dir_.file("config.json"), json.dump());
  }

  test::TempDir dir_;
  RandomModelOptions options_;
};

TEST_F(ModelDirTest, OpensARandomModel) {
  const auto m = model_dir_open(dir_.str());
  EXPECT_EQ(m.path, dir_.str());
  EXPECT_EQ(m.config, options_.config);
  EXPECT_EQ(m.generation.bos_token_id, 1);
  EXPECT_EQ(m.generation.eos_token_ids, (std::vector<int64_t>{2}));
  EXPECT_EQ(m.tensors.tensors().size(), 21u);
  EXPECT_EQ(m.tensors.get("model.layers.1.self_attn.k_proj.weight").shape, (std::vector<int64_t>{32, 64}));
  EXPECT_EQ(m.tensors.get("lm_head.weight").dtype, DType::BF16);
}

TEST_F(ModelDirTest, GenerationConfigIsOptional) {
  fs::remove(dir_.file("generation_config.json"));
  const auto m = model_dir_open(dir_.str());
  EXPECT_TRUE(m.generation.eos_token_ids.empty());
  EXPECT_EQ(m.generation.bos_token_id, std::nullopt);
  EXPECT_EQ(m.config.eos_token_ids, (std::vector<int64_t>{2}));  // config.json still says
}

TEST_F(ModelDirTest, NotADirectory) {
  const auto missing = thrown<IoError>([&] { model_dir_open(dir_.file("absent")); });
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->context().file, dir_.file("absent"));
  EXPECT_THROW(model_dir_open(dir_.file("config.json")), IoError);  // a file
}

TEST_F(ModelDirTest, MissingConfig) {
  fs::remove(dir_.file("config.json"));
  const auto e = thrown<ModelFormatError>([&] { model_dir_open(dir_.str()); });
  ASSERT_TRUE(e);
  EXPECT_CONTAINS(e->what(), "config.json");
}

TEST_F(ModelDirTest, ConfigErrorsComeThrough) {
  set_config("hidden_act", "gelu");
  auto unsupported = thrown<UnsupportedError>([&] { model_dir_open(dir_.str()); });
  ASSERT_TRUE(unsupported);
  EXPECT_EQ(unsupported->context().file, dir_.file("config.json"));
  set_config("hidden_act", "silu");
  set_config("vocab_size", -1);
  EXPECT_THROW(model_dir_open(dir_.str()), ConfigError);
  test::write_file(dir_.file("generation_config.json"), R"({"top_p": 7})");
  set_config("vocab_size", 512);
  const auto generation = thrown<ConfigError>([&] { model_dir_open(dir_.str()); });
  ASSERT_TRUE(generation);
  EXPECT_EQ(generation->context().file, dir_.file("generation_config.json"));
}

TEST_F(ModelDirTest, MissingWeights) {
  fs::remove(dir_.file("model.safetensors"));
  EXPECT_THROW(model_dir_open(dir_.str()), ModelFormatError);
}

TEST_F(ModelDirTest, WeightsThatDoNotFitTheConfig) {
  // One layer more than the file holds: all nine of layer 2 are missing.
  set_config("num_hidden_layers", 3);
  auto e = thrown<ModelFormatError>([&] { model_dir_open(dir_.str()); });
  ASSERT_TRUE(e);
  EXPECT_CONTAINS(e->what(), "9 tensor problem(s)");
  EXPECT_CONTAINS(e->what(), "missing model.layers.2.mlp.down_proj.weight");
  EXPECT_EQ(e->context().file, dir_.str());
  // One fewer: layer 1 is unexpected.
  set_config("num_hidden_layers", 1);
  e = thrown<ModelFormatError>([&] { model_dir_open(dir_.str()); });
  ASSERT_TRUE(e);
  EXPECT_CONTAINS(e->what(), "unexpected model.layers.1.input_layernorm.weight");
  // A different FFN width: the MLP matrices are mis-shaped.
  set_config("num_hidden_layers", 2);
  set_config("intermediate_size", 256);
  e = thrown<ModelFormatError>([&] { model_dir_open(dir_.str()); });
  ASSERT_TRUE(e);
  EXPECT_CONTAINS(e->what(), "6 tensor problem(s)");  // gate, up, down of two layers
  EXPECT_CONTAINS(e->what(), "wrong shape model.layers.0.mlp.gate_proj.weight: [128, 64], expected [256, 64]");
}

TEST_F(ModelDirTest, DamagedWeightsNameTheFile) {
  auto bytes = test::read_file(dir_.file("model.safetensors"));
  bytes.resize(bytes.size() - 1);
  test::write_file(dir_.file("model.safetensors"), bytes);
  const auto e = thrown<ModelFormatError>([&] { model_dir_open(dir_.str()); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->context().file, dir_.file("model.safetensors"));
  EXPECT_FALSE(e->context().tensor.empty());  // the last tensor runs past the end
}

}  // namespace
}  // namespace llmbatch
