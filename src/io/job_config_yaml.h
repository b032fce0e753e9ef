// YAML plumbing for the job config (internal to io/job_config*): where a
// value came from for error messages, what a plain scalar means under YAML
// 1.2's core schema, YAML -> JSON for the `sampling` section, and writing
// scalars so that they read back as the same type.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "core/error.h"

namespace llmbatch {

// The origin of a value: a job file (with the node's Mark) or a --set flag.
struct ValueSite {
  std::string file;     // the job file, or empty
  std::string set_arg;  // the whole --set argument, or empty
};

// " (line 3, column 7)" for a file (1-based; nothing when the mark is
// unknown), " (from --set ARG)" for a flag.
std::string site_location(const ValueSite& site, const YAML::Mark& mark);

// A ConfigError "KEY: WHAT (line L, column C)" with {.file, .key} set
// ("WHAT (...)" for the empty key, the top level).
ConfigError config_error_at(const std::string& key, const std::string& what,
                            const ValueSite& site, const YAML::Mark& mark,
                            const std::string& hint = {});

// Rethrows `e` (raised without knowing the file or key, e.g. by a value
// parser or apply_sampling_overrides) with the key path in front of its
// description unless it already names it, the location after it, and its
// hint kept.
[[noreturn]] void rethrow_at(const ConfigError& e, const std::string& key, const ValueSite& site,
                             const YAML::Mark& mark);

enum class ScalarType { kNull, kBool, kInt, kFloat, kString };

// What an unquoted scalar means under the YAML 1.2 core schema ("~" null,
// "true" bool, "0x1f" int, "1e-5" float, anything else a string).
ScalarType plain_scalar_type(std::string_view text);

// How a scalar node is typed: quoted and !!str-tagged scalars are strings,
// plain ones follow plain_scalar_type.
ScalarType scalar_type(const YAML::Node& node);

// For messages: "24", "'abc'", "a sequence", "a mapping", "null".
std::string describe_node(const YAML::Node& node);

// The node as JSON, scalars typed by scalar_type. Throws ConfigError on a
// duplicate or non-scalar mapping key, naming `key` (the node's own path).
nlohmann::json yaml_to_json(const YAML::Node& node, const std::string& key, const ValueSite& site);

// Shortest text that reads back as the same double, always recognisably a
// float ("60.0", "0.9", "1e-05", ".inf").
std::string format_double(double value);

// Writes a string so that it reads back as a string: quoted when its plain
// form would be null, a bool or a number.
void emit_string(YAML::Emitter& out, const std::string& text);

// Writes JSON as YAML (arrays of scalars in flow style).
void emit_json(YAML::Emitter& out, const nlohmann::json& value);

}  // namespace llmbatch
