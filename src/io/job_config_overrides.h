// One `--set KEY=VALUE` flag applied to a JobConfig (internal to
// io/job_config*; load_job_config is the public entry).
#pragma once

#include <string>

#include "io/job_config.h"

namespace llmbatch {

// Throws ConfigError for a missing '=', a malformed key path, a value that
// is not YAML, and everything a job file value can fail on.
void apply_set_override(JobConfig& config, const std::string& arg);

}  // namespace llmbatch
