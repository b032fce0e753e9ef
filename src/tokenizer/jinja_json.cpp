#include "tokenizer/jinja_json.h"

#include <algorithm>
#include <cmath>

#include "tokenizer/jinja_error.h"
#include "tokenizer/jinja_text.h"

namespace llmbatch::jinja {
namespace {

void append_u_escape(std::string& out, uint32_t unit) {
  static const char* const kHex = "0123456789abcdef";
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(unit >> shift) & 0xF];
}

// json.dumps' string encoder (py_encode_basestring[_ascii]).
void append_json_string(std::string& out, const std::string& s, bool ensure_ascii) {
  out += '"';
  for (const char32_t c : utf8_decode(s)) {
    switch (c) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    if (c < 0x20 || (ensure_ascii && c > 0x7E)) {
      if (c >= 0x10000) {
        const uint32_t v = c - 0x10000;
        append_u_escape(out, 0xD800 | (v >> 10));
        append_u_escape(out, 0xDC00 | (v & 0x3FF));
      } else {
        append_u_escape(out, c);
      }
    } else {
      utf8_append(out, c);
    }
  }
  out += '"';
}

std::string float_json(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d < 0 ? "-Infinity" : "Infinity";
  return py_float_repr(d);
}

// Python converts non-string dict keys: 1 -> "1", True -> "true", None -> "null".
std::string key_string(const Value& key) {
  switch (key.kind()) {
    case Value::Kind::kString: return key.as_string();
    case Value::Kind::kBool: return key.as_bool() ? "true" : "false";
    case Value::Kind::kNone: return "null";
    case Value::Kind::kInt: return std::to_string(key.as_int());
    case Value::Kind::kFloat: return float_json(key.as_float());
    default:
      throw TemplateRuntimeError("TypeError: keys must be str, int, float, bool or None, not " + key.type_name());
  }
}

class JsonWriter {
 public:
  explicit JsonWriter(const JsonDumpOptions& o)
      : o_(o), item_sep_(o.item_separator.value_or(o.indent ? "," : ", ")) {}

  void write(std::string& out, const Value& v, int depth) {
    switch (v.kind()) {
      case Value::Kind::kNone: out += "null"; return;
      case Value::Kind::kBool: out += v.as_bool() ? "true" : "false"; return;
      case Value::Kind::kInt: out += std::to_string(v.as_int()); return;
      case Value::Kind::kFloat: out += float_json(v.as_float()); return;
      case Value::Kind::kString: append_json_string(out, v.as_string(), o_.ensure_ascii); return;
      case Value::Kind::kList: write_list(out, v.as_list(), depth); return;
      case Value::Kind::kDict: write_dict(out, v.as_dict(), depth); return;
      default:
        throw TemplateRuntimeError("TypeError: Object of type " + v.type_name() + " is not JSON serializable");
    }
  }

 private:
  void newline(std::string& out, int depth) const {
    out += '\n';
    for (int i = 0; i < depth; ++i) out += *o_.indent;
  }

  void write_list(std::string& out, const ValueList& items, int depth) {
    if (items.empty()) {
      out += "[]";
      return;
    }
    out += '[';
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out += item_sep_;
      if (o_.indent) newline(out, depth + 1);
      write(out, items[i], depth + 1);
    }
    if (o_.indent) newline(out, depth);
    out += ']';
  }

  void write_dict(std::string& out, const ValueDict& dict, int depth) {
    if (dict.size() == 0) {
      out += "{}";
      return;
    }
    std::vector<std::pair<std::string, const Value*>> entries;
    for (const auto& [k, v] : dict.entries()) entries.emplace_back(key_string(k), &v);
    if (o_.sort_keys) {
      std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    }
    out += '{';
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i > 0) out += item_sep_;
      if (o_.indent) newline(out, depth + 1);
      append_json_string(out, entries[i].first, o_.ensure_ascii);
      out += o_.key_separator;
      write(out, *entries[i].second, depth + 1);
    }
    if (o_.indent) newline(out, depth);
    out += '}';
  }

  const JsonDumpOptions& o_;
  std::string item_sep_;
};

}  // namespace

namespace {

// Deeper input is refused: converting (and later freeing) it recurses.
constexpr int kMaxJsonDepth = 512;

Value from_json_at(const nlohmann::ordered_json& json, int depth) {
  if (depth > kMaxJsonDepth) throw TemplateUnsupportedError("JSON nested deeper than 512 levels");
  switch (json.type()) {
    case nlohmann::ordered_json::value_t::null: return Value(nullptr);
    case nlohmann::ordered_json::value_t::boolean: return Value(json.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return Value(json.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const auto u = json.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) throw TemplateUnsupportedError("integers above 2^63-1");
      return Value(static_cast<int64_t>(u));
    }
    case nlohmann::ordered_json::value_t::number_float: return Value(json.get<double>());
    case nlohmann::ordered_json::value_t::string: return Value(json.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      ValueList items;
      items.reserve(json.size());
      for (const auto& item : json) items.push_back(from_json_at(item, depth + 1));
      return Value::list(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      std::vector<std::pair<Value, Value>> entries;  // JSON object keys are distinct
      entries.reserve(json.size());
      for (const auto& [key, item] : json.items()) entries.emplace_back(Value(key), from_json_at(item, depth + 1));
      return Value::dict(ValueDict(std::move(entries)));
    }
    default:
      return Value(nullptr);  // binary / discarded: not produced by parsing JSON text
  }
}

}  // namespace

Value from_json(const nlohmann::ordered_json& json) { return from_json_at(json, 0); }

std::string to_json(const Value& value, const JsonDumpOptions& options) {
  std::string out;
  JsonWriter(options).write(out, value, 0);
  return out;
}

}  // namespace llmbatch::jinja
