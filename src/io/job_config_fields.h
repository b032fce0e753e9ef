// The table of job config keys outside `sampling` (internal to
// io/job_config*): for each key path, how to parse a YAML value into the
// JobConfig field, write it back, and reset it to its default. Loading,
// --set, the unknown-key suggestions and job_config_to_yaml all walk this
// one table, so a key added here is settable, printable and known
// everywhere.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "io/job_config.h"

namespace llmbatch {

struct JobField {
  std::string path;  // "engine.block_size"
  // Parses a non-null value; throws ConfigError ("expected ..., got ...")
  // without a key or location, which the caller adds.
  std::function<void(JobConfig&, const YAML::Node&)> set;
  std::function<void(YAML::Emitter&, const JobConfig&)> emit;
  std::function<void(JobConfig&)> reset;  // back to the default
};

// Every field, in document order.
std::span<const JobField> job_fields();

// The field at exactly `path`, or nullptr.
const JobField* find_job_field(std::string_view path);

// The top-level keys in document order: the sections and `mode`.
std::span<const std::string> job_top_level_keys();

}  // namespace llmbatch
