#include "sampling/sampling_params.h"

#include <functional>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace llmbatch {
namespace {

using nlohmann::json;

void expect_same(const SamplingParams& a, const SamplingParams& b) {
  EXPECT_EQ(a.temperature, b.temperature);
  EXPECT_EQ(a.top_k, b.top_k);
  EXPECT_EQ(a.top_p, b.top_p);
  EXPECT_EQ(a.min_p, b.min_p);
  EXPECT_EQ(a.repetition_penalty, b.repetition_penalty);
  EXPECT_EQ(a.presence_penalty, b.presence_penalty);
  EXPECT_EQ(a.frequency_penalty, b.frequency_penalty);
  EXPECT_EQ(a.logit_bias, b.logit_bias);
  EXPECT_EQ(a.max_tokens, b.max_tokens);
  EXPECT_EQ(a.min_tokens, b.min_tokens);
  EXPECT_EQ(a.stop_token_ids, b.stop_token_ids);
  EXPECT_EQ(a.stop, b.stop);
  EXPECT_EQ(a.include_stop_str, b.include_stop_str);
  EXPECT_EQ(a.ignore_eos, b.ignore_eos);
  EXPECT_EQ(a.n, b.n);
  EXPECT_EQ(a.seed, b.seed);
  EXPECT_EQ(a.logprobs, b.logprobs);
  EXPECT_EQ(a.skip_special_tokens, b.skip_special_tokens);
}

// Every field away from its default.
SamplingParams all_fields_set() {
  SamplingParams p;
  p.temperature = 0.7;
  p.top_k = 40;
  p.top_p = 0.95;
  p.min_p = 0.05;
  p.repetition_penalty = 1.1;
  p.presence_penalty = 0.5;
  p.frequency_penalty = -0.25;
  p.logit_bias = {{50256, -100.0f}, {9, 2.5f}, {10, 0.1f}};  // unsorted on purpose: order must survive
  p.max_tokens = 256;
  p.min_tokens = 3;
  p.stop_token_ids = {128001, 7};
  p.stop = {"\n\n", "###"};
  p.include_stop_str = true;
  p.ignore_eos = true;
  p.n = 4;
  p.seed = 18446744073709551557ull;  // needs all 64 bits
  p.logprobs = 5;
  p.skip_special_tokens = false;
  return p;
}

// The ConfigError `f` throws; fails the test if it throws nothing.
ConfigError config_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "no ConfigError";
  return ConfigError("none");
}

TEST(SamplingParamsTest, DefaultsAreValidAndMatchVllm) {
  const SamplingParams p;
  EXPECT_NO_THROW(validate_sampling_params(p));
  EXPECT_EQ(p.temperature, 1.0);
  EXPECT_EQ(p.top_p, 1.0);
  EXPECT_EQ(p.max_tokens, 16);
  EXPECT_EQ(p.logprobs, -1);
  EXPECT_TRUE(p.skip_special_tokens);
}

TEST(SamplingParamsTest, GreedyBelowTheTemperatureFloor) {
  SamplingParams p;
  EXPECT_FALSE(is_greedy(p));
  p.temperature = 0;
  EXPECT_TRUE(is_greedy(p));
  p.temperature = 0.5e-5;
  EXPECT_TRUE(is_greedy(p));
  p.temperature = 1e-5;
  EXPECT_FALSE(is_greedy(p));
}

TEST(SamplingParamsTest, ValidationNamesTheKeyAndTheRange) {
  struct Case {
    std::function<void(SamplingParams&)> change;
    std::string key;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {[](SamplingParams& p) { p.temperature = -0.1; }, "sampling.temperature", ">= 0"},
      {[](SamplingParams& p) { p.temperature = std::nan(""); }, "sampling.temperature", ">= 0"},
      {[](SamplingParams& p) { p.top_k = -2; }, "sampling.top_k", "0 or -1"},
      {[](SamplingParams& p) { p.top_p = 0.0; }, "sampling.top_p", "(0, 1]"},
      {[](SamplingParams& p) { p.top_p = 1.5; }, "sampling.top_p", "got 1.5"},
      {[](SamplingParams& p) { p.min_p = 1.01; }, "sampling.min_p", "[0, 1]"},
      {[](SamplingParams& p) { p.repetition_penalty = 0.0; }, "sampling.repetition_penalty", "> 0"},
      {[](SamplingParams& p) { p.presence_penalty = 2.5; }, "sampling.presence_penalty", "[-2, 2]"},
      {[](SamplingParams& p) { p.frequency_penalty = -3; }, "sampling.frequency_penalty", "[-2, 2]"},
      {[](SamplingParams& p) { p.logit_bias = {{1, 0.f}, {-4, 1.f}}; }, "sampling.logit_bias[1]", ">= 0"},
      {[](SamplingParams& p) { p.logit_bias = {{1, 101.f}}; }, "sampling.logit_bias[0]", "[-100, 100]"},
      {[](SamplingParams& p) { p.logit_bias = {{3, 1.f}, {1, 1.f}, {3, 2.f}}; }, "sampling.logit_bias", "3 more than once"},
      {[](SamplingParams& p) { p.max_tokens = 0; }, "sampling.max_tokens", ">= 1"},
      {[](SamplingParams& p) { p.min_tokens = 17; }, "sampling.min_tokens", "max_tokens = 16"},
      {[](SamplingParams& p) { p.min_tokens = -1; }, "sampling.min_tokens", "[0, max_tokens"},
      {[](SamplingParams& p) { p.stop_token_ids = {2, -1}; }, "sampling.stop_token_ids[1]", ">= 0"},
      {[](SamplingParams& p) { p.stop = {"a", ""}; }, "sampling.stop[1]", "empty"},
      {[](SamplingParams& p) { p.n = 0; }, "sampling.n", ">= 1"},
      {[](SamplingParams& p) { p.logprobs = 21; }, "sampling.logprobs", "0..20"},
      {[](SamplingParams& p) { p.logprobs = -2; }, "sampling.logprobs", "0..20"},
  };
  for (const Case& c : cases) {
    SamplingParams p;
    c.change(p);
    const ConfigError e = config_error([&] { validate_sampling_params(p); });
    EXPECT_EQ(e.context().key, c.key);
    EXPECT_NE(std::string(e.what()).find(c.expected), std::string::npos) << e.what();
  }
}

TEST(SamplingParamsTest, ValidationAcceptsTheBoundaries) {
  SamplingParams p;
  p.temperature = 0;
  p.top_k = -1;
  p.top_p = 1e-9;
  p.min_p = 1;
  p.presence_penalty = -2;
  p.frequency_penalty = 2;
  p.logit_bias = {{0, -100.f}, {1, 100.f}};
  p.max_tokens = 1;
  p.min_tokens = 1;
  p.logprobs = 20;
  EXPECT_NO_THROW(validate_sampling_params(p));
}

TEST(SamplingParamsTest, KeyPrefixIsUsed) {
  SamplingParams p;
  p.n = 0;
  EXPECT_EQ(config_error([&] { validate_sampling_params(p, "records[7].body"); }).context().key, "records[7].body.n");
  EXPECT_EQ(config_error([&] { validate_sampling_params(p, ""); }).context().key, "n");
}

TEST(SamplingParamsTest, VocabCheckNamesTheOutOfRangeId) {
  SamplingParams p;
  p.logit_bias = {{5, 1.f}, {100, 1.f}};
  EXPECT_NO_THROW(validate_sampling_params_for_vocab(SamplingParams(), 1));
  ConfigError e = config_error([&] { validate_sampling_params_for_vocab(p, 100); });
  EXPECT_EQ(e.context().key, "sampling.logit_bias[1]");
  EXPECT_NE(std::string(e.what()).find("vocabulary size 100"), std::string::npos);
  EXPECT_NO_THROW(validate_sampling_params_for_vocab(p, 101));
  p.stop_token_ids = {3, 101};
  e = config_error([&] { validate_sampling_params_for_vocab(p, 101); });
  EXPECT_EQ(e.context().key, "sampling.stop_token_ids[1]");
}

TEST(SamplingParamsTest, OverridesSetEveryField) {
  const json overrides = json::parse(R"({
    "temperature": 0.7, "top_k": 40, "top_p": 0.95, "min_p": 0.05, "repetition_penalty": 1.1,
    "presence_penalty": 0.5, "frequency_penalty": -0.25,
    "logit_bias": [[50256, -100], [9, 2.5], [10, 0.1]],
    "max_tokens": 256, "min_tokens": 3, "stop_token_ids": [128001, 7], "stop": ["\n\n", "###"],
    "include_stop_str": true, "ignore_eos": true, "n": 4, "seed": 18446744073709551557,
    "logprobs": 5, "skip_special_tokens": false})");
  expect_same(apply_sampling_overrides(SamplingParams(), overrides), all_fields_set());
}

TEST(SamplingParamsTest, OverridesLeaveOtherFieldsAndNullsAlone) {
  SamplingParams base = all_fields_set();
  const SamplingParams out =
      apply_sampling_overrides(base, json::parse(R"({"temperature": 0, "stop": null, "seed": null})"));
  base.temperature = 0;
  expect_same(out, base);
  expect_same(apply_sampling_overrides(base, json()), base);
  expect_same(apply_sampling_overrides(base, json::object()), base);
}

TEST(SamplingParamsTest, OverridesAcceptTheAlternativeSpellings) {
  const SamplingParams p = apply_sampling_overrides(
      SamplingParams(), json::parse(R"({"stop": "END", "logit_bias": {"12": -5, "3": 100}, "max_tokens": 32.0,
                                        "logprobs": true, "temperature": 1})"));
  EXPECT_EQ(p.stop, std::vector<std::string>{"END"});
  ASSERT_EQ(p.logit_bias.size(), 2u);
  // Object keys arrive sorted as strings ("12" < "3"); the set is what matters.
  EXPECT_EQ(p.logit_bias[0], (std::pair<TokenId, float>{12, -5.f}));
  EXPECT_EQ(p.logit_bias[1], (std::pair<TokenId, float>{3, 100.f}));
  EXPECT_EQ(p.max_tokens, 32);
  EXPECT_EQ(p.logprobs, 0);
  EXPECT_EQ(p.temperature, 1.0);
  SamplingParams with_logprobs;
  with_logprobs.logprobs = 3;
  EXPECT_EQ(apply_sampling_overrides(with_logprobs, json::parse(R"({"logprobs": false})")).logprobs, -1);
}

TEST(SamplingParamsTest, OpenAiAliases) {
  EXPECT_EQ(apply_sampling_overrides(SamplingParams(), json::parse(R"({"max_completion_tokens": 99})")).max_tokens, 99);
  EXPECT_EQ(
      apply_sampling_overrides(SamplingParams(), json::parse(R"({"logprobs": true, "top_logprobs": 4})")).logprobs, 4);
  EXPECT_EQ(apply_sampling_overrides(SamplingParams(), json::parse(R"({"top_logprobs": 2})")).logprobs, 2);
  ConfigError e = config_error(
      [] { apply_sampling_overrides(SamplingParams(), json::parse(R"({"logprobs": false, "top_logprobs": 4})")); });
  EXPECT_EQ(e.context().key, "sampling.top_logprobs");
  e = config_error([] { apply_sampling_overrides(SamplingParams(), json::parse(R"({"top_logprobs": 21})")); });
  EXPECT_EQ(e.context().key, "sampling.top_logprobs");
}

TEST(SamplingParamsTest, UnknownKeySuggestsTheClosest) {
  const auto hint_for = [](const std::string& key) {
    const ConfigError e = config_error([&] { apply_sampling_overrides(SamplingParams(), json{{key, 1}}); });
    EXPECT_EQ(e.context().key, "sampling." + key);
    return std::string(e.what());
  };
  EXPECT_NE(hint_for("topp").find("did you mean top_p?"), std::string::npos);
  EXPECT_NE(hint_for("temprature").find("did you mean temperature?"), std::string::npos);
  EXPECT_NE(hint_for("temp").find("did you mean temperature?"), std::string::npos);
  EXPECT_NE(hint_for("max_new_tokens").find("did you mean max_tokens?"), std::string::npos);
  EXPECT_NE(hint_for("stop_token_id").find("did you mean stop_token_ids?"), std::string::npos);
  const std::string far = hint_for("beam_width");
  EXPECT_EQ(far.find("did you mean"), std::string::npos);
  EXPECT_NE(far.find("known keys: temperature top_k"), std::string::npos) << far;
}

TEST(SamplingParamsTest, WrongTypesNameTheKeyAndTheExpectedType) {
  struct Case {
    const char* overrides;
    std::string key;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {R"({"temperature": "hot"})", "sampling.temperature", "must be a number, got string \"hot\""},
      {R"({"top_k": 1.5})", "sampling.top_k", "must be an integer"},
      {R"({"max_tokens": "16"})", "sampling.max_tokens", "must be an integer"},
      {R"({"max_tokens": 18446744073709551615})", "sampling.max_tokens", "too large"},
      {R"({"ignore_eos": 1})", "sampling.ignore_eos", "true or false"},
      {R"({"stop": 5})", "sampling.stop", "a string or a list of strings"},
      {R"({"stop": ["a", 5]})", "sampling.stop[1]", "must be a string"},
      {R"({"stop_token_ids": 5})", "sampling.stop_token_ids", "a list of token ids"},
      {R"({"stop_token_ids": [1, -2]})", "sampling.stop_token_ids[1]", "token id"},
      {R"({"stop_token_ids": [3000000000]})", "sampling.stop_token_ids[0]", "token id"},
      {R"({"logit_bias": {"abc": 1}})", "sampling.logit_bias.abc", "not a token id"},
      {R"({"logit_bias": {"12": "up"}})", "sampling.logit_bias.12", "must be a number"},
      {R"({"logit_bias": [[1, 2, 3]]})", "sampling.logit_bias[0]", "a pair [token id, bias]"},
      {R"({"logit_bias": "none"})", "sampling.logit_bias", "an object"},
      {R"({"logprobs": "yes"})", "sampling.logprobs", "an integer 0..20 or true/false"},
      {R"({"seed": -1})", "sampling.seed", "non-negative"},
      {R"({"n": 0})", "sampling.n", ">= 1"},  // right type, validated after
  };
  for (const Case& c : cases) {
    const ConfigError e = config_error([&] { apply_sampling_overrides(SamplingParams(), json::parse(c.overrides)); });
    EXPECT_EQ(e.context().key, c.key) << c.overrides;
    EXPECT_NE(std::string(e.what()).find(c.expected), std::string::npos) << e.what();
  }
  const ConfigError e = config_error([] { apply_sampling_overrides(SamplingParams(), json::array({1})); });
  EXPECT_EQ(e.context().key, "sampling");
}

TEST(SamplingParamsTest, ToJsonHasEveryFieldAndRoundTrips) {
  const json defaults = sampling_params_to_json(SamplingParams());
  EXPECT_EQ(defaults.size(), 18u);
  EXPECT_EQ(defaults["temperature"], 1.0);
  EXPECT_EQ(defaults["stop"], json::array());
  EXPECT_EQ(defaults["logprobs"], -1);
  expect_same(apply_sampling_overrides(SamplingParams(), defaults), SamplingParams());

  const SamplingParams p = all_fields_set();
  // Through text, as --print-config and the resume fingerprint see it, onto a different base.
  const json text_round_trip = json::parse(sampling_params_to_json(p).dump());
  SamplingParams other;
  other.max_tokens = 1000;
  other.stop = {"x"};
  expect_same(apply_sampling_overrides(other, text_round_trip), p);
}

}  // namespace
}  // namespace llmbatch
