#include "io/job_config_yaml.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace llmbatch {
namespace {

bool is_digits(std::string_view s, bool (*digit)(char)) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!digit(c)) return false;
  }
  return true;
}

bool decimal_digit(char c) { return c >= '0' && c <= '9'; }
bool octal_digit(char c) { return c >= '0' && c <= '7'; }
bool hex_digit(char c) {
  return decimal_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

std::string_view without_sign(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  return s;
}

// [-+]? ( \.[0-9]+ | [0-9]+ ( \.[0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
bool is_core_float(std::string_view s) {
  s = without_sign(s);
  const size_t e = s.find_first_of("eE");
  const std::string_view mantissa = s.substr(0, e);
  if (e != std::string_view::npos && !is_digits(without_sign(s.substr(e + 1)), decimal_digit)) {
    return false;
  }
  const size_t dot = mantissa.find('.');
  if (dot == std::string_view::npos) return is_digits(mantissa, decimal_digit);
  const std::string_view whole = mantissa.substr(0, dot);
  const std::string_view fraction = mantissa.substr(dot + 1);
  if (whole.empty()) return is_digits(fraction, decimal_digit);
  return is_digits(whole, decimal_digit) && (fraction.empty() || is_digits(fraction, decimal_digit));
}

nlohmann::json scalar_to_json(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  switch (scalar_type(node)) {
    case ScalarType::kNull: return nullptr;
    case ScalarType::kBool: return text[0] == 't' || text[0] == 'T';
    case ScalarType::kInt: {
      std::string_view digits = text;
      const bool negative = digits[0] == '-';
      digits = without_sign(digits);
      int base = 10;
      if (digits.starts_with("0x") || digits.starts_with("0o")) {
        base = digits[1] == 'x' ? 16 : 8;
        digits.remove_prefix(2);
      }
      uint64_t magnitude = 0;
      const auto [end, ec] = std::from_chars(digits.begin(), digits.end(), magnitude, base);
      if (ec == std::errc() && end == digits.end()) {
        if (!negative) return magnitude;
        if (magnitude <= uint64_t{1} << 63) return static_cast<int64_t>(0 - magnitude);
      }
      return std::strtod(text.c_str(), nullptr);  // too large for 64 bits: keep it as a float
    }
    case ScalarType::kFloat: {
      std::string_view body = without_sign(text);
      const double sign = text[0] == '-' ? -1.0 : 1.0;
      if (body[0] == '.' && (body[1] == 'i' || body[1] == 'I')) {
        return sign * std::numeric_limits<double>::infinity();
      }
      if (body[0] == '.' && (body[1] == 'n' || body[1] == 'N')) {
        return std::numeric_limits<double>::quiet_NaN();
      }
      return std::strtod(text.c_str(), nullptr);
    }
    case ScalarType::kString: break;
  }
  return text;
}

}  // namespace

std::string site_location(const ValueSite& site, const YAML::Mark& mark) {
  if (!site.set_arg.empty()) return " (from --set " + site.set_arg + ")";
  if (mark.is_null()) return "";
  return " (line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1) +
         ")";
}

ConfigError config_error_at(const std::string& key, const std::string& what,
                            const ValueSite& site, const YAML::Mark& mark,
                            const std::string& hint) {
  const std::string prefix = key.empty() ? "" : key + ": ";
  return ConfigError(prefix + what + site_location(site, mark), {.file = site.file, .key = key},
                     hint);
}

void rethrow_at(const ConfigError& e, const std::string& key, const ValueSite& site,
                const YAML::Mark& mark) {
  // Error keeps no separate hint; it is what follows the message formatted
  // without one (". " + hint).
  const std::string bare = ConfigError(e.description(), e.context()).what();
  const std::string_view full = e.what();
  std::string hint;
  if (full.size() > bare.size() + 2 && full.starts_with(bare)) hint = full.substr(bare.size() + 2);

  const std::string& error_key = e.context().key.empty() ? key : e.context().key;
  std::string what = e.description();
  if (what.find(error_key) == std::string::npos) what = error_key + ": " + what;
  throw ConfigError(what + site_location(site, mark), {.file = site.file, .key = error_key}, hint);
}

ScalarType plain_scalar_type(std::string_view text) {
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
    return ScalarType::kNull;
  }
  if (text == "true" || text == "True" || text == "TRUE" || text == "false" || text == "False" ||
      text == "FALSE") {
    return ScalarType::kBool;
  }
  const std::string_view body = without_sign(text);
  if (is_digits(body, decimal_digit)) return ScalarType::kInt;
  if (body.size() == text.size()) {  // 0o / 0x take no sign in the core schema
    if (text.starts_with("0o") && is_digits(text.substr(2), octal_digit)) return ScalarType::kInt;
    if (text.starts_with("0x") && is_digits(text.substr(2), hex_digit)) return ScalarType::kInt;
  }
  if (body == ".inf" || body == ".Inf" || body == ".INF") return ScalarType::kFloat;
  if (text == ".nan" || text == ".NaN" || text == ".NAN") return ScalarType::kFloat;
  if (is_core_float(text)) return ScalarType::kFloat;
  return ScalarType::kString;
}

ScalarType scalar_type(const YAML::Node& node) {
  if (node.IsNull()) return ScalarType::kNull;
  // yaml-cpp tags plain scalars "?" and quoted ones "!".
  if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") return ScalarType::kString;
  return plain_scalar_type(node.Scalar());
}

std::string describe_node(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence: return "a sequence";
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Scalar: break;
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return "null";
  }
  const ScalarType type = scalar_type(node);
  if (type == ScalarType::kInt || type == ScalarType::kFloat) return node.Scalar();
  return "'" + node.Scalar() + "'";
}

nlohmann::json yaml_to_json(const YAML::Node& node, const std::string& key, const ValueSite& site) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return nullptr;
    case YAML::NodeType::Scalar: return scalar_to_json(node);
    case YAML::NodeType::Sequence: {
      nlohmann::json array = nlohmann::json::array();
      for (size_t i = 0; i < node.size(); ++i) {
        array.push_back(yaml_to_json(node[i], key + "[" + std::to_string(i) + "]", site));
      }
      return array;
    }
    case YAML::NodeType::Map: break;
  }
  nlohmann::json object = nlohmann::json::object();
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) {
      throw config_error_at(key, "a key must be a name, got " + describe_node(entry.first), site,
                            entry.first.Mark());
    }
    const std::string& name = entry.first.Scalar();
    const std::string child = key + "." + name;
    if (object.contains(name)) {
      throw config_error_at(child, "duplicate key", site, entry.first.Mark(),
                            "give each key once per section");
    }
    object[name] = yaml_to_json(entry.second, child, site);
  }
  return object;
}

std::string format_double(double value) {
  if (std::isnan(value)) return ".nan";
  if (std::isinf(value)) return value > 0 ? ".inf" : "-.inf";
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof buf, value);
  std::string text(buf, result.ptr);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

void emit_string(YAML::Emitter& out, const std::string& text) {
  if (plain_scalar_type(text) != ScalarType::kString) out << YAML::DoubleQuoted;
  out << text;
}

void emit_json(YAML::Emitter& out, const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null: out << YAML::Null; return;
    case nlohmann::json::value_t::boolean: out << (value.get<bool>() ? "true" : "false"); return;
    case nlohmann::json::value_t::number_integer:
      out << std::to_string(value.get<int64_t>());
      return;
    case nlohmann::json::value_t::number_unsigned:
      out << std::to_string(value.get<uint64_t>());
      return;
    case nlohmann::json::value_t::number_float: out << format_double(value.get<double>()); return;
    case nlohmann::json::value_t::string: emit_string(out, value.get<std::string>()); return;
    case nlohmann::json::value_t::array: {
      const bool flat = std::none_of(value.begin(), value.end(),
                                     [](const auto& v) { return v.is_structured(); });
      if (flat) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const auto& item : value) emit_json(out, item);
      out << YAML::EndSeq;
      return;
    }
    case nlohmann::json::value_t::object:
      out << YAML::BeginMap;
      for (const auto& [name, item] : value.items()) {
        out << YAML::Key;
        emit_string(out, name);
        out << YAML::Value;
        emit_json(out, item);
      }
      out << YAML::EndMap;
      return;
    case nlohmann::json::value_t::binary:
    case nlohmann::json::value_t::discarded: break;
  }
  throw InternalError("cannot write a binary or discarded JSON value as YAML");
}

}  // namespace llmbatch
