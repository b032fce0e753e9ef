// Reading tokenizer.json: typed field access whose errors name the file and
// the key path ("pre_tokenizer.pretokenizers[1].pattern.Regex").
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace llmbatch::tokenizer {

using Json = nlohmann::json;

// Where a JSON value sits: the file and its key path.
struct JsonPath {
  std::string file;
  std::string key;

  JsonPath operator/(std::string_view child) const;
  JsonPath operator[](size_t index) const;
};

// The member `key` of object `obj`; ModelFormatError if `obj` is not an
// object or lacks the key.
const Json& json_require(const Json& obj, std::string_view key, const JsonPath& at);
// The member, or nullptr when absent or null.
const Json* json_find(const Json& obj, std::string_view key);

std::string json_string(const Json& obj, std::string_view key, const JsonPath& at);
bool json_bool(const Json& obj, std::string_view key, const JsonPath& at, bool fallback);
// A non-negative integer (an id, a count).
uint64_t json_uint(const Json& obj, std::string_view key, const JsonPath& at);
// A string of exactly one character (a replacement such as "▁").
char32_t json_char(const Json& obj, std::string_view key, const JsonPath& at);
// `obj["type"]`, the component kind of a normalizer, pre-tokenizer, ...
std::string json_type(const Json& obj, const JsonPath& at);

// UnsupportedError for a component type llmbatch does not implement.
[[noreturn]] void json_unsupported(std::string_view component, std::string_view type,
                                   const JsonPath& at);

}  // namespace llmbatch::tokenizer
