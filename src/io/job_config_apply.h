// Setting job config keys from YAML values (internal to io/job_config*): the
// one walk that both the job file and each --set flag go through, so both
// accept exactly the same keys and values and fail with the same messages.
#pragma once

#include <string>

#include <yaml-cpp/yaml.h>

#include "io/job_config.h"
#include "io/job_config_yaml.h"

namespace llmbatch {

// Sets `path` ("" for the whole document, a section such as "engine", a key
// such as "engine.block_size", or anything under "sampling") from `node`:
// a mapping for the document or a section (merged key by key), a value for
// a key; null resets the key or every key of the section. `key_mark` points
// at the key in the file, for errors where the value has no position.
// Throws ConfigError for unknown keys (with the closest known one), wrong
// types and out-of-range values.
void apply_job_value(JobConfig& config, const std::string& path, const YAML::Node& node,
                     const ValueSite& site, const YAML::Mark& key_mark);

}  // namespace llmbatch
