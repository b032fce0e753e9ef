#include "sampling/sampling_params.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace llmbatch {
namespace {

using nlohmann::json;

std::string key_path(std::string_view prefix, std::string_view field) {
  std::string key(prefix);
  if (!key.empty()) key += '.';
  return key += field;
}

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

[[noreturn]] void fail(const std::string& key, const std::string& what, const std::string& hint = {}) {
  throw ConfigError("'" + key + "' " + what, {.key = key}, hint);
}

// "string \"hot\"": what a wrong value was, short enough for one line.
std::string describe(const json& v) {
  std::string text = v.dump();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return std::string(v.type_name()) + " " + text;
}

[[noreturn]] void fail_type(const json& v, const std::string& key, std::string_view expected) {
  fail(key, "must be " + std::string(expected) + ", got " + describe(v));
}

// ---- typed reads; each names `key` when the JSON type is wrong ----

double read_number(const json& v, const std::string& key) {
  if (!v.is_number()) fail_type(v, key, "a number");
  return v.get<double>();
}

// Integral floats (16.0) are accepted: YAML and JSON writers produce them.
int64_t read_integer(const json& v, const std::string& key) {
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())) fail(key, "is too large: " + v.dump());
    return v.get<int64_t>();
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::trunc(d) == d && std::abs(d) < 9e18) return static_cast<int64_t>(d);
  }
  fail_type(v, key, "an integer");
}

bool read_bool(const json& v, const std::string& key) {
  if (!v.is_boolean()) fail_type(v, key, "true or false");
  return v.get<bool>();
}

TokenId read_token_id(const json& v, const std::string& key) {
  const int64_t id = read_integer(v, key);
  if (id < 0 || id > std::numeric_limits<TokenId>::max()) fail(key, "must be a token id (>= 0), got " + v.dump());
  return static_cast<TokenId>(id);
}

uint64_t read_seed(const json& v, const std::string& key) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  const int64_t seed = read_integer(v, key);
  if (seed < 0) fail(key, "must be a non-negative integer, got " + v.dump());
  return static_cast<uint64_t>(seed);
}

std::vector<std::string> read_stop(const json& v, const std::string& key) {
  if (v.is_string()) return {v.get<std::string>()};
  if (!v.is_array()) fail_type(v, key, "a string or a list of strings");
  std::vector<std::string> stop;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) fail_type(v[i], key + "[" + std::to_string(i) + "]", "a string");
    stop.push_back(v[i].get<std::string>());
  }
  return stop;
}

std::vector<TokenId> read_token_ids(const json& v, const std::string& key) {
  if (!v.is_array()) fail_type(v, key, "a list of token ids");
  std::vector<TokenId> ids;
  for (size_t i = 0; i < v.size(); ++i) ids.push_back(read_token_id(v[i], key + "[" + std::to_string(i) + "]"));
  return ids;
}

// {"token id": bias} (OpenAI) or [[id, bias], ...] (what to_json writes).
std::vector<std::pair<TokenId, float>> read_logit_bias(const json& v, const std::string& key) {
  std::vector<std::pair<TokenId, float>> bias;
  if (v.is_object()) {
    for (const auto& [name, value] : v.items()) {
      const std::string item_key = key + "." + name;
      int64_t id = -1;
      const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), id);
      if (ec != std::errc() || end != name.data() + name.size() || id < 0 ||
          id > std::numeric_limits<TokenId>::max()) {
        fail(item_key, "is not a token id: keys of logit_bias must be non-negative integers");
      }
      bias.emplace_back(static_cast<TokenId>(id), static_cast<float>(read_number(value, item_key)));
    }
    return bias;
  }
  if (!v.is_array()) fail_type(v, key, "an object {\"token id\": bias} or a list of [token id, bias]");
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string item_key = key + "[" + std::to_string(i) + "]";
    if (!v[i].is_array() || v[i].size() != 2) fail_type(v[i], item_key, "a pair [token id, bias]");
    bias.emplace_back(read_token_id(v[i][0], item_key + "[0]"),
                      static_cast<float>(read_number(v[i][1], item_key + "[1]")));
  }
  return bias;
}

// true = the chosen token's logprob only, false = off (OpenAI chat); an
// integer = that many alternatives (OpenAI completions, vLLM).
int64_t read_logprobs(const json& v, const std::string& key) {
  if (v.is_boolean()) return v.get<bool>() ? 0 : -1;
  if (!v.is_number()) fail_type(v, key, "an integer 0.." + std::to_string(kMaxLogprobs) + " or true/false");
  return read_integer(v, key);
}

struct Field {
  std::string_view name;
  void (*apply)(SamplingParams& p, const json& v, const std::string& key);
};

// Every key apply_sampling_overrides accepts, in SamplingParams order.
// top_logprobs is handled after the loop (it combines with logprobs).
constexpr Field kFields[] = {
    {"temperature", [](SamplingParams& p, const json& v, const std::string& k) { p.temperature = read_number(v, k); }},
    {"top_k", [](SamplingParams& p, const json& v, const std::string& k) { p.top_k = read_integer(v, k); }},
    {"top_p", [](SamplingParams& p, const json& v, const std::string& k) { p.top_p = read_number(v, k); }},
    {"min_p", [](SamplingParams& p, const json& v, const std::string& k) { p.min_p = read_number(v, k); }},
    {"repetition_penalty",
     [](SamplingParams& p, const json& v, const std::string& k) { p.repetition_penalty = read_number(v, k); }},
    {"presence_penalty",
     [](SamplingParams& p, const json& v, const std::string& k) { p.presence_penalty = read_number(v, k); }},
    {"frequency_penalty",
     [](SamplingParams& p, const json& v, const std::string& k) { p.frequency_penalty = read_number(v, k); }},
    {"logit_bias", [](SamplingParams& p, const json& v, const std::string& k) { p.logit_bias = read_logit_bias(v, k); }},
    {"max_tokens", [](SamplingParams& p, const json& v, const std::string& k) { p.max_tokens = read_integer(v, k); }},
    {"max_completion_tokens",
     [](SamplingParams& p, const json& v, const std::string& k) { p.max_tokens = read_integer(v, k); }},
    {"min_tokens", [](SamplingParams& p, const json& v, const std::string& k) { p.min_tokens = read_integer(v, k); }},
    {"stop_token_ids",
     [](SamplingParams& p, const json& v, const std::string& k) { p.stop_token_ids = read_token_ids(v, k); }},
    {"stop", [](SamplingParams& p, const json& v, const std::string& k) { p.stop = read_stop(v, k); }},
    {"include_stop_str",
     [](SamplingParams& p, const json& v, const std::string& k) { p.include_stop_str = read_bool(v, k); }},
    {"ignore_eos", [](SamplingParams& p, const json& v, const std::string& k) { p.ignore_eos = read_bool(v, k); }},
    {"n", [](SamplingParams& p, const json& v, const std::string& k) { p.n = read_integer(v, k); }},
    {"seed", [](SamplingParams& p, const json& v, const std::string& k) { p.seed = read_seed(v, k); }},
    {"logprobs", [](SamplingParams& p, const json& v, const std::string& k) { p.logprobs = read_logprobs(v, k); }},
    {"skip_special_tokens",
     [](SamplingParams& p, const json& v, const std::string& k) { p.skip_special_tokens = read_bool(v, k); }},
};
constexpr std::string_view kTopLogprobs = "top_logprobs";

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

[[noreturn]] void fail_unknown_key(const std::string& name, std::string_view prefix) {
  std::vector<std::string_view> known;
  for (const Field& f : kFields) known.push_back(f.name);
  known.push_back(kTopLogprobs);
  // Close in spelling (a third of the letters, at least 2), or a prefix ("temp").
  std::string_view best;
  size_t best_distance = std::max<size_t>(2, name.size() / 3) + 1;
  for (std::string_view candidate : known) {
    const size_t d = candidate.starts_with(name) && name.size() >= 3 ? 1 : edit_distance(name, candidate);
    if (d < best_distance) best = candidate, best_distance = d;
  }
  std::string hint;
  if (!best.empty()) {
    hint = "did you mean " + std::string(best) + "?";
  } else {
    hint = "known keys:";
    for (std::string_view k : known) hint += " " + std::string(k);
  }
  fail(key_path(prefix, name), "is not a sampling setting", hint);
}

}  // namespace

void validate_sampling_params(const SamplingParams& p, std::string_view prefix) {
  const auto check = [&](bool ok, std::string_view field, const std::string& what) {
    if (!ok) fail(key_path(prefix, field), what);
  };
  check(std::isfinite(p.temperature) && p.temperature >= 0, "temperature",
        "must be a number >= 0 (0 = greedy), got " + format_number(p.temperature));
  check(p.top_k >= -1, "top_k", "must be >= 1, or 0 or -1 for no limit, got " + std::to_string(p.top_k));
  check(p.top_p > 0 && p.top_p <= 1, "top_p", "must be in (0, 1], got " + format_number(p.top_p));
  check(p.min_p >= 0 && p.min_p <= 1, "min_p", "must be in [0, 1], got " + format_number(p.min_p));
  check(std::isfinite(p.repetition_penalty) && p.repetition_penalty > 0, "repetition_penalty",
        "must be > 0 (1 = off), got " + format_number(p.repetition_penalty));
  check(p.presence_penalty >= -2 && p.presence_penalty <= 2, "presence_penalty",
        "must be in [-2, 2], got " + format_number(p.presence_penalty));
  check(p.frequency_penalty >= -2 && p.frequency_penalty <= 2, "frequency_penalty",
        "must be in [-2, 2], got " + format_number(p.frequency_penalty));
  std::vector<TokenId> biased;
  for (size_t i = 0; i < p.logit_bias.size(); ++i) {
    const auto [id, bias] = p.logit_bias[i];
    const std::string field = "logit_bias[" + std::to_string(i) + "]";
    check(id >= 0, field, "token id must be >= 0, got " + std::to_string(id));
    check(bias >= -100 && bias <= 100, field, "bias must be in [-100, 100], got " + format_number(bias));
    biased.push_back(id);
  }
  std::sort(biased.begin(), biased.end());
  const auto twice = std::adjacent_find(biased.begin(), biased.end());
  check(twice == biased.end(), "logit_bias",
        "gives token id " + (twice == biased.end() ? std::string() : std::to_string(*twice)) + " more than once");
  check(p.max_tokens >= 1, "max_tokens", "must be >= 1, got " + std::to_string(p.max_tokens));
  check(p.min_tokens >= 0 && p.min_tokens <= p.max_tokens, "min_tokens",
        "must be in [0, max_tokens = " + std::to_string(p.max_tokens) + "], got " + std::to_string(p.min_tokens));
  for (size_t i = 0; i < p.stop_token_ids.size(); ++i) {
    check(p.stop_token_ids[i] >= 0, "stop_token_ids[" + std::to_string(i) + "]",
          "must be a token id (>= 0), got " + std::to_string(p.stop_token_ids[i]));
  }
  for (size_t i = 0; i < p.stop.size(); ++i) {
    check(!p.stop[i].empty(), "stop[" + std::to_string(i) + "]", "must not be empty");
  }
  check(p.n >= 1, "n", "must be >= 1, got " + std::to_string(p.n));
  check(p.logprobs >= -1 && p.logprobs <= kMaxLogprobs, "logprobs",
        "must be in 0.." + std::to_string(kMaxLogprobs) + " (or -1 for off), got " + std::to_string(p.logprobs));
}

void validate_sampling_params_for_vocab(const SamplingParams& p, int64_t vocab_size, std::string_view prefix) {
  const std::string range = " is not a token id of this model (vocabulary size " + std::to_string(vocab_size) + ")";
  for (size_t i = 0; i < p.logit_bias.size(); ++i) {
    if (p.logit_bias[i].first >= vocab_size) {
      fail(key_path(prefix, "logit_bias[" + std::to_string(i) + "]"), std::to_string(p.logit_bias[i].first) + range);
    }
  }
  for (size_t i = 0; i < p.stop_token_ids.size(); ++i) {
    if (p.stop_token_ids[i] >= vocab_size) {
      fail(key_path(prefix, "stop_token_ids[" + std::to_string(i) + "]"), std::to_string(p.stop_token_ids[i]) + range);
    }
  }
}

SamplingParams apply_sampling_overrides(SamplingParams p, const json& overrides, std::string_view prefix) {
  if (overrides.is_null()) return p;
  if (!overrides.is_object()) fail_type(overrides, std::string(prefix), "an object of sampling settings");
  for (const auto& [name, value] : overrides.items()) {
    if (name == kTopLogprobs) continue;
    const auto field = std::find_if(std::begin(kFields), std::end(kFields), [&](const Field& f) { return f.name == name; });
    if (field == std::end(kFields)) fail_unknown_key(name, prefix);
    if (!value.is_null()) field->apply(p, value, key_path(prefix, name));
  }
  if (const auto top = overrides.find(kTopLogprobs); top != overrides.end() && !top->is_null()) {
    const std::string key = key_path(prefix, kTopLogprobs);
    const int64_t count = read_integer(*top, key);
    if (count < 0 || count > kMaxLogprobs) fail(key, "must be in 0.." + std::to_string(kMaxLogprobs) + ", got " + top->dump());
    if (p.logprobs < 0 && overrides.contains("logprobs") && !overrides["logprobs"].is_null()) {
      fail(key, "needs logprobs; it is off in the same settings", "set logprobs: true or drop top_logprobs");
    }
    p.logprobs = count;
  }
  validate_sampling_params(p, prefix);
  return p;
}

json sampling_params_to_json(const SamplingParams& p) {
  json bias = json::array();
  for (const auto& [id, value] : p.logit_bias) bias.push_back({id, value});
  return {
      {"temperature", p.temperature},
      {"top_k", p.top_k},
      {"top_p", p.top_p},
      {"min_p", p.min_p},
      {"repetition_penalty", p.repetition_penalty},
      {"presence_penalty", p.presence_penalty},
      {"frequency_penalty", p.frequency_penalty},
      {"logit_bias", bias},
      {"max_tokens", p.max_tokens},
      {"min_tokens", p.min_tokens},
      {"stop_token_ids", p.stop_token_ids},
      {"stop", p.stop},
      {"include_stop_str", p.include_stop_str},
      {"ignore_eos", p.ignore_eos},
      {"n", p.n},
      {"seed", p.seed},
      {"logprobs", p.logprobs},
      {"skip_special_tokens", p.skip_special_tokens},
  };
}

}  // namespace llmbatch
