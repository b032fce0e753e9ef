// libFuzzer target: any byte string as config.json and generation_config.json.
// Parsing must accept it or throw llmbatch::Error, never crash; an accepted
// config must be self-consistent and survive a round trip through JSON.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "model/generation_config.h"
#include "model/model_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto json = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return 0;
  try {
    const auto config = llmbatch::model_config_from_json(json, "config.json");
    if (config.head_dim <= 0 || config.num_attention_heads % config.num_key_value_heads != 0) std::abort();
    if (!(llmbatch::model_config_from_json(llmbatch::model_config_to_json(config), "round trip") == config)) std::abort();
  } catch (const llmbatch::Error&) {
  }
  try {
    llmbatch::generation_config_from_json(json, "generation_config.json");
  } catch (const llmbatch::Error&) {
  }
  return 0;
}
