// `--set a.b.c=value`: the key path, then the value parsed as YAML (a
// scalar, or a flow sequence or map such as [a.jsonl, b.jsonl] or
// {temperature: 0}), applied exactly as the same key in a job file.
#include "io/job_config_overrides.h"

#include "io/job_config_apply.h"
#include "io/job_config_yaml.h"

namespace llmbatch {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_key_path(std::string_view key) {
  if (key.empty() || key.front() == '.' || key.back() == '.' ||
      key.find("..") != std::string_view::npos) {
    return false;
  }
  for (char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

void apply_set_override(JobConfig& config, const std::string& arg) {
  const size_t eq = arg.find('=');
  if (eq == std::string::npos) {
    throw ConfigError("--set expects KEY=VALUE, got '" + arg + "'", {},
                      "e.g. --set sampling.temperature=0 or --set input.paths=[a.jsonl,b.jsonl]");
  }
  const std::string key(trim(std::string_view(arg).substr(0, eq)));
  if (!is_key_path(key)) {
    throw ConfigError("--set '" + arg + "': '" + key + "' is not a key path", {.key = key},
                      "a key path is names joined by dots, e.g. engine.block_size");
  }
  const ValueSite site{.set_arg = arg};
  YAML::Node value;
  try {
    value = YAML::Load(arg.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    const std::string column =
        e.mark.is_null() ? "" : " at column " + std::to_string(e.mark.column + 1);
    throw ConfigError(key + ": the value is not valid YAML: " + e.msg + column + site_location(site, e.mark),
                      {.key = key},
                      "quote a value that holds YAML syntax, e.g. --set 'input.paths=\"*.jsonl\"'");
  }
  apply_job_value(config, key, value, site, YAML::Mark::null_mark());
}

}  // namespace llmbatch
