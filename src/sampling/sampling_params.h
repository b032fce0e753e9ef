// How one request is sampled and when it stops: the job's `sampling:`
// section, overridden per record (an OpenAI batch `body`). Field names and
// meanings follow vLLM's SamplingParams and the OpenAI API, so a job file or
// a batch request reads the way users expect.
//
// Overrides arrive as JSON (YAML is converted by io); every field is checked
// here, with the key path in the error ("sampling.top_p must be in (0, 1]"),
// so the engine can trust what it gets.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "kv/kv_types.h"

namespace llmbatch {

struct SamplingParams {
  double temperature = 1.0;         // 0 = greedy
  int64_t top_k = 0;                // 0 or -1 = off
  double top_p = 1.0;               // (0, 1]
  double min_p = 0.0;               // [0, 1]
  double repetition_penalty = 1.0;  // > 0; HF/CTRL style over prompt + output tokens
  double presence_penalty = 0.0;    // [-2, 2], OpenAI style over output tokens
  double frequency_penalty = 0.0;   // [-2, 2]
  std::vector<std::pair<TokenId, float>> logit_bias;  // added to the logits; bias in [-100, 100]
  int64_t max_tokens = 16;          // >= 1
  int64_t min_tokens = 0;           // EOS, stop ids and stop strings ignored/masked until this many
  std::vector<TokenId> stop_token_ids;
  std::vector<std::string> stop;    // stop strings
  bool include_stop_str = false;
  bool ignore_eos = false;
  int64_t n = 1;                    // samples per prompt, >= 1
  uint64_t seed = 0;
  int64_t logprobs = -1;            // -1 off; 0..20 = chosen token's logprob plus that many top alternatives
  bool skip_special_tokens = true;
};

// The most top alternatives a request may ask for (OpenAI's limit).
inline constexpr int64_t kMaxLogprobs = 20;

// Temperatures below this sample greedily (vLLM's _SAMPLING_EPS): dividing
// by them would overflow, and the result would be the argmax anyway.
inline constexpr double kGreedyTemperature = 1e-5;

// Whether tokens are picked by argmax: no draw, no key dependence.
inline bool is_greedy(const SamplingParams& params) { return params.temperature < kGreedyTemperature; }

// Throws ConfigError naming key "<prefix>.<field>" with what was expected.
// Token ids are only checked to be non-negative; see the vocab check below.
void validate_sampling_params(const SamplingParams& params, std::string_view key_prefix = "sampling");

// The checks that need the model: every logit_bias and stop_token_ids id is
// below `vocab_size`. Call it when a request is admitted; Sampler::sample
// throws the same ConfigError if it was skipped.
void validate_sampling_params_for_vocab(const SamplingParams& params, int64_t vocab_size,
                                        std::string_view key_prefix = "sampling");

// Applies the fields present in `overrides` (a JSON object, or null for
// none; the YAML job's sampling section or a record's per-record override)
// on top of `base`, then validates. Accepts every field name above:
//   stop: a string or a list of strings; logit_bias: an object
//   {"token id": bias} or a list of [id, bias]; logprobs: an integer or a
//   bool (true = 0 alternatives, false = off); integers may be written as
//   integral floats (16.0). A null value leaves the field as in `base`
//   (OpenAI clients send "stop": null).
// OpenAI aliases: max_completion_tokens (= max_tokens) and top_logprobs
// (the number of alternatives; implies logprobs unless logprobs is false,
// which is then an error).
// Unknown key -> ConfigError suggesting the closest known one ("did you mean
// top_p?"); wrong type -> ConfigError naming the key and the expected type.
SamplingParams apply_sampling_overrides(SamplingParams base, const nlohmann::json& overrides,
                                        std::string_view key_prefix = "sampling");

// Every field, defaults included (for --print-config and the resume
// fingerprint); round-trips through apply_sampling_overrides. logit_bias is
// written as a list of [id, bias] so its order survives.
nlohmann::json sampling_params_to_json(const SamplingParams& params);

}  // namespace llmbatch
