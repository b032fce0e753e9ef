// JSON in and out of the Jinja value model.
//
// In: a render context parsed with nlohmann::ordered_json, so dict order is
// the file's order, as Python's json.load keeps it (`tojson` and `items()`
// show it). Out: Python's json.dumps, byte for byte, which transformers'
// `tojson` filter calls.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "tokenizer/jinja_value.h"

namespace llmbatch::jinja {

// Throws TemplateUnsupportedError for integers beyond int64 (Python has big
// ints) and for nesting deeper than 512 levels.
Value from_json(const nlohmann::ordered_json& json);

// json.dumps(value, ensure_ascii=, indent=, separators=, sort_keys=).
struct JsonDumpOptions {
  bool ensure_ascii = false;
  std::optional<std::string> indent;          // None: one line
  std::optional<std::string> item_separator;  // default ", " (or "," with indent)
  std::string key_separator = ": ";
  bool sort_keys = false;
};

// Throws TemplateRuntimeError for what json.dumps cannot serialize
// (undefined, namespaces, functions).
std::string to_json(const Value& value, const JsonDumpOptions& options);

}  // namespace llmbatch::jinja
