// generation_config.json: the model's own stop tokens and default sampling
// values. Every field is optional; a job's sampling settings override them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace llmbatch {

struct GenerationConfig {
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;  // generation stops at any of them
  std::optional<int64_t> pad_token_id;
  std::optional<bool> do_sample;
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<int64_t> top_k;
  std::optional<double> min_p;
  std::optional<double> repetition_penalty;
  std::optional<int64_t> max_new_tokens;
};

GenerationConfig generation_config_from_json(const nlohmann::json& json, const std::string& file);
// Reads `path`; a missing file gives the empty config (it is optional in HF).
GenerationConfig generation_config_load(const std::string& path);

}  // namespace llmbatch
