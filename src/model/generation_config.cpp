#include "model/generation_config.h"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "model/json_reader.h"

namespace llmbatch {

GenerationConfig generation_config_from_json(const nlohmann::json& json, const std::string& file) {
  const JsonReader c(json, file);
  GenerationConfig g;
  g.bos_token_id = c.optional_int("bos_token_id");
  g.eos_token_ids = c.int_or_int_list("eos_token_id");
  g.pad_token_id = c.optional_int("pad_token_id");
  g.do_sample = c.optional_bool("do_sample");
  g.temperature = c.optional_number("temperature");
  g.top_p = c.optional_number("top_p");
  g.top_k = c.optional_int("top_k");
  g.min_p = c.optional_number("min_p");
  g.repetition_penalty = c.optional_number("repetition_penalty");
  g.max_new_tokens = c.optional_int("max_new_tokens");
  if (g.temperature && *g.temperature < 0) {
    throw ConfigError("'temperature' must not be negative", {.file = file, .key = "temperature"});
  }
  if (g.top_p && !(*g.top_p > 0 && *g.top_p <= 1)) {
    throw ConfigError("'top_p' must be in (0, 1]", {.file = file, .key = "top_p"});
  }
  return g;
}

GenerationConfig generation_config_load(const std::string& path) {
  if (!std::filesystem::exists(path)) return {};
  return generation_config_from_json(read_json_file(path), path);
}

}  // namespace llmbatch
