#include "model/generation_config.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "model_test_util.h"

namespace llmbatch {
namespace {

using test::thrown;

GenerationConfig parse(const char* text) {
  return generation_config_from_json(nlohmann::json::parse(text), "generation_config.json");
}

// meta-llama/Llama-3.1-8B-Instruct's generation_config.json.
constexpr const char* kLlama31Instruct = R"json({
  "bos_token_id": 128000,
  "do_sample": true,
  "eos_token_id": [128001, 128008, 128009],
  "temperature": 0.6,
  "top_p": 0.9,
  "transformers_version": "4.42.3"
})json";

// Qwen/Qwen2.5-0.5B-Instruct's generation_config.json.
constexpr const char* kQwen25Instruct = R"json({
  "bos_token_id": 151643,
  "pad_token_id": 151643,
  "do_sample": true,
  "eos_token_id": [151645, 151643],
  "repetition_penalty": 1.1,
  "temperature": 0.7,
  "top_p": 0.8,
  "top_k": 20,
  "transformers_version": "4.37.0"
})json";

TEST(GenerationConfigTest, Llama31Instruct) {
  const auto g = parse(kLlama31Instruct);
  EXPECT_EQ(g.bos_token_id, 128000);
  EXPECT_EQ(g.eos_token_ids, (std::vector<int64_t>{128001, 128008, 128009}));
  EXPECT_EQ(g.do_sample, true);
  EXPECT_EQ(g.temperature, 0.6);
  EXPECT_EQ(g.top_p, 0.9);
  EXPECT_EQ(g.top_k, std::nullopt);
  EXPECT_EQ(g.pad_token_id, std::nullopt);
  EXPECT_EQ(g.repetition_penalty, std::nullopt);
}

TEST(GenerationConfigTest, Qwen25Instruct) {
  const auto g = parse(kQwen25Instruct);
  EXPECT_EQ(g.bos_token_id, 151643);
  EXPECT_EQ(g.pad_token_id, 151643);
  EXPECT_EQ(g.eos_token_ids, (std::vector<int64_t>{151645, 151643}));
  EXPECT_EQ(g.repetition_penalty, 1.1);
  EXPECT_EQ(g.temperature, 0.7);
  EXPECT_EQ(g.top_p, 0.8);
  EXPECT_EQ(g.top_k, 20);
}

TEST(GenerationConfigTest, EveryFieldIsOptional) {
  const auto g = parse("{}");
  EXPECT_EQ(g.bos_token_id, std::nullopt);
  EXPECT_TRUE(g.eos_token_ids.empty());
  EXPECT_EQ(g.pad_token_id, std::nullopt);
  EXPECT_EQ(g.do_sample, std::nullopt);
  EXPECT_EQ(g.temperature, std::nullopt);
  EXPECT_EQ(g.top_p, std::nullopt);
  EXPECT_EQ(g.top_k, std::nullopt);
  EXPECT_EQ(g.min_p, std::nullopt);
  EXPECT_EQ(g.repetition_penalty, std::nullopt);
  EXPECT_EQ(g.max_new_tokens, std::nullopt);
}

TEST(GenerationConfigTest, SingleEosAndRemainingFields) {
  const auto g = parse(R"({"eos_token_id": 2, "min_p": 0.05, "max_new_tokens": 256, "do_sample": false,
                           "temperature": 0, "top_p": 1.0, "pad_token_id": null})");
  EXPECT_EQ(g.eos_token_ids, (std::vector<int64_t>{2}));
  EXPECT_EQ(g.min_p, 0.05);
  EXPECT_EQ(g.max_new_tokens, 256);
  EXPECT_EQ(g.do_sample, false);
  EXPECT_EQ(g.temperature, 0.0);  // greedy is allowed
  EXPECT_EQ(g.top_p, 1.0);        // the closed end of (0, 1]
  EXPECT_EQ(g.pad_token_id, std::nullopt);
}

TEST(GenerationConfigTest, BadValuesNameTheirKey) {
  const std::vector<std::pair<const char*, const char*>> cases = {
      {R"({"temperature": -0.1})", "temperature"},   {R"({"top_p": 0})", "top_p"},
      {R"({"top_p": 1.5})", "top_p"},                 {R"({"top_k": 2.5})", "top_k"},
      {R"({"do_sample": "yes"})", "do_sample"},       {R"({"eos_token_id": "2"})", "eos_token_id"},
      {R"({"eos_token_id": [2, null]})", "eos_token_id"}, {R"({"max_new_tokens": "64"})", "max_new_tokens"},
      {R"({"repetition_penalty": [1]})", "repetition_penalty"}, {R"({"bos_token_id": 1.0})", "bos_token_id"},
  };
  for (const auto& [text, key] : cases) {
    const auto e = thrown<ConfigError>([&] { parse(text); });
    ASSERT_TRUE(e) << text;
    EXPECT_EQ(e->context().key, key) << text;
    EXPECT_EQ(e->context().file, "generation_config.json");
  }
  EXPECT_THROW(parse("[1]"), ConfigError);
}

TEST(GenerationConfigTest, LoadTreatsAMissingFileAsEmpty) {
  const test::TempDir dir;
  const auto absent = generation_config_load(dir.file("generation_config.json"));
  EXPECT_TRUE(absent.eos_token_ids.empty());
  EXPECT_EQ(absent.temperature, std::nullopt);

  test::write_file(dir.file("generation_config.json"), kQwen25Instruct);
  const auto g = generation_config_load(dir.file("generation_config.json"));
  EXPECT_EQ(g.eos_token_ids, (std::vector<int64_t>{151645, 151643}));
  EXPECT_EQ(g.top_k, 20);

  test::write_file(dir.file("broken.json"), "{\"top_k\": ");
  const auto e = thrown<ConfigError>([&] { generation_config_load(dir.file("broken.json")); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->context().file, dir.file("broken.json"));
  test::write_file(dir.file("bad_value.json"), R"({"top_p": 2})");
  const auto bad = thrown<ConfigError>([&] { generation_config_load(dir.file("bad_value.json")); });
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->context().file, dir.file("bad_value.json"));
}

}  // namespace
}  // namespace llmbatch
