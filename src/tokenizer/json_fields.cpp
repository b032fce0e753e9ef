#include "tokenizer/json_fields.h"

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace llmbatch::tokenizer {
namespace {

[[noreturn]] void wrong_type(std::string_view key, std::string_view want, const Json& got,
                             const JsonPath& at) {
  throw ModelFormatError("'" + std::string(key) + "' must be " + std::string(want) + ", not " +
                             got.type_name(),
                         {.file = at.file, .key = (at / key).key});
}

}  // namespace

JsonPath JsonPath::operator/(std::string_view child) const {
  return {file, key.empty() ? std::string(child) : key + "." + std::string(child)};
}

JsonPath JsonPath::operator[](size_t index) const {
  return {file, key + "[" + std::to_string(index) + "]"};
}

const Json* json_find(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

const Json& json_require(const Json& obj, std::string_view key, const JsonPath& at) {
  if (!obj.is_object()) {
    throw ModelFormatError(std::string("expected a JSON object, found ") + obj.type_name(),
                           {.file = at.file, .key = at.key});
  }
  const auto it = obj.find(key);
  if (it == obj.end()) {
    throw ModelFormatError("missing key '" + std::string(key) + "'",
                           {.file = at.file, .key = (at / key).key});
  }
  return *it;
}

std::string json_string(const Json& obj, std::string_view key, const JsonPath& at) {
  const Json& v = json_require(obj, key, at);
  if (!v.is_string()) wrong_type(key, "a string", v, at);
  return v.get<std::string>();
}

bool json_bool(const Json& obj, std::string_view key, const JsonPath& at, bool fallback) {
  const Json* v = json_find(obj, key);
  if (v == nullptr) return fallback;
  if (!v->is_boolean()) wrong_type(key, "true or false", *v, at);
  return v->get<bool>();
}

uint64_t json_uint(const Json& obj, std::string_view key, const JsonPath& at) {
  const Json& v = json_require(obj, key, at);
  if (!v.is_number_unsigned()) wrong_type(key, "a non-negative integer", v, at);
  return v.get<uint64_t>();
}

char32_t json_char(const Json& obj, std::string_view key, const JsonPath& at) {
  const std::string s = json_string(obj, key, at);
  size_t pos = 0;
  if (s.empty() || !utf8_is_valid(s) || (utf8_next(s, pos), pos != s.size())) {
    throw ModelFormatError("'" + std::string(key) + "' must be a single character",
                           {.file = at.file, .key = (at / key).key});
  }
  pos = 0;
  return utf8_next(s, pos);
}

std::string json_type(const Json& obj, const JsonPath& at) {
  return json_string(obj, "type", at);
}

void json_unsupported(std::string_view component, std::string_view type, const JsonPath& at) {
  throw UnsupportedError(std::string(component) + " type '" + std::string(type) +
                             "' is not implemented",
                         {.file = at.file, .key = (at / "type").key},
                         "llmbatch implements the components of BPE tokenizers (GPT-2, "
                         "Llama, Qwen, Mistral); see docs for the list");
}

}  // namespace llmbatch::tokenizer
