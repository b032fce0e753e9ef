#include "model/json_reader.h"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_error.h"

namespace llmbatch {
namespace {

// nlohmann keeps integers >= 2^63 as unsigned; get<int64_t>() would wrap
// them (2^64 - 1 to -1), so they count as not an integer here.
bool is_int64(const nlohmann::json& v) {
  return v.is_number_integer() && !(v.is_number_unsigned() && v.get<uint64_t>() > INT64_MAX);
}

}  // namespace

JsonReader::JsonReader(const nlohmann::json& object, std::string file, std::string key_prefix)
    : object_(&object), file_(std::move(file)), prefix_(std::move(key_prefix)) {
  if (!object.is_object()) throw ConfigError("expected a JSON object", {.file = file_, .key = prefix_});
}

const nlohmann::json* JsonReader::get(const std::string& key) const {
  const auto it = object_->find(key);
  if (it == object_->end() || it->is_null()) return nullptr;
  return &*it;
}

void JsonReader::fail(const std::string& key, const std::string& what) const {
  throw ConfigError("'" + key_path(key) + "' " + what, {.file = file_, .key = key_path(key)});
}

bool JsonReader::has(const std::string& key) const { return get(key) != nullptr; }

std::optional<int64_t> JsonReader::optional_int(const std::string& key) const {
  const auto* v = get(key);
  if (!v) return std::nullopt;
  if (!is_int64(*v)) fail(key, "must be an integer (64-bit), got " + v->dump());
  return v->get<int64_t>();
}

int64_t JsonReader::positive_int(const std::string& key) const {
  const auto v = optional_int(key);
  if (!v) fail(key, "is missing");
  if (*v <= 0) fail(key, "must be a positive integer, got " + std::to_string(*v));
  return *v;
}

std::optional<double> JsonReader::optional_number(const std::string& key) const {
  const auto* v = get(key);
  if (!v) return std::nullopt;
  if (!v->is_number()) fail(key, "must be a number, got " + v->dump());
  return v->get<double>();
}

double JsonReader::positive_number(const std::string& key) const {
  const auto v = optional_number(key);
  if (!v) fail(key, "is missing");
  if (!(*v > 0)) fail(key, "must be a positive number, got " + std::to_string(*v));
  return *v;
}

std::optional<bool> JsonReader::optional_bool(const std::string& key) const {
  const auto* v = get(key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) fail(key, "must be true or false, got " + v->dump());
  return v->get<bool>();
}

std::optional<std::string> JsonReader::optional_string(const std::string& key) const {
  const auto* v = get(key);
  if (!v) return std::nullopt;
  if (!v->is_string()) fail(key, "must be a string, got " + v->dump());
  return v->get<std::string>();
}

std::vector<int64_t> JsonReader::int_or_int_list(const std::string& key) const {
  const auto* v = get(key);
  if (!v) return {};
  if (is_int64(*v)) return {v->get<int64_t>()};
  if (!v->is_array()) fail(key, "must be an integer or a list of integers, got " + v->dump());
  std::vector<int64_t> out;
  for (const auto& item : *v) {
    if (!is_int64(item)) fail(key, "must be an integer or a list of integers, got " + v->dump());
    out.push_back(item.get<int64_t>());
  }
  return out;
}

std::optional<JsonReader> JsonReader::optional_object(const std::string& key) const {
  const auto* v = get(key);
  if (!v) return std::nullopt;
  if (!v->is_object()) fail(key, "must be an object, got " + v->dump());
  return JsonReader(*v, file_, key_path(key) + ".");
}

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open", {.file = path});
  std::stringstream buffer;
  buffer << in.rdbuf();
  try {
    return nlohmann::json::parse(buffer.str());
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(std::string("not valid JSON: ") + e.what(), {.file = path, .offset = json_error_byte(e)});
  }
}

}  // namespace llmbatch
