#include "io/job_config_apply.h"

#include <set>
#include <vector>

#include "io/job_config_fields.h"
#include "io/key_suggestion.h"
#include "sampling/sampling_params.h"

namespace llmbatch {
namespace {

constexpr std::string_view kSampling = "sampling";

std::string join_key(const std::string& parent, const std::string& name) {
  return parent.empty() ? name : parent + "." + name;
}

std::string parent_of(const std::string& path) {
  const size_t dot = path.rfind('.');
  return dot == std::string::npos ? std::string() : path.substr(0, dot);
}

std::string leaf_of(const std::string& path) { return path.substr(path.rfind('.') + 1); }

bool in_sampling(const std::string& path) {
  return path == kSampling || path.starts_with(std::string(kSampling) + ".");
}

bool is_section(const std::string& path) {
  if (path.empty()) return true;
  for (const JobField& field : job_fields()) {
    if (field.path.starts_with(path + ".")) return true;
  }
  return false;
}

const nlohmann::json& default_sampling_json() {
  static const nlohmann::json json = sampling_params_to_json(SamplingParams{});
  return json;
}

// Every key a user may write: sections, fields and sampling fields.
const std::vector<std::string>& known_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> all(job_top_level_keys().begin(), job_top_level_keys().end());
    for (const std::string& key : job_config_keys()) {
      if (key.find('.') != std::string::npos) all.push_back(key);
    }
    for (const auto& [name, value] : default_sampling_json().items()) {
      all.push_back(std::string(kSampling) + "." + name);
    }
    return all;
  }();
  return keys;
}

// A sibling with a similar name first (engine.max_num_seq ->
// engine.max_num_seqs), else the same name in another section (engine.seed
// -> sampling.seed).
std::optional<std::string> suggest_key(const std::string& path) {
  const std::string parent = parent_of(path);
  std::vector<std::string> siblings;
  for (const std::string& key : known_keys()) {
    if (parent_of(key) == parent) siblings.push_back(leaf_of(key));
  }
  if (auto match = closest_match(leaf_of(path), siblings)) return join_key(parent, *match);

  std::vector<std::string> leaves;
  for (const std::string& key : known_keys()) leaves.push_back(leaf_of(key));
  const auto match = closest_match(leaf_of(path), leaves);
  if (!match) return std::nullopt;
  for (const std::string& key : known_keys()) {
    if (leaf_of(key) == *match) return key;
  }
  return std::nullopt;
}

// "model.path" for "model.path.dir": a key written below a plain value.
std::optional<std::string> field_above(const std::string& path) {
  for (std::string above = parent_of(path); !above.empty(); above = parent_of(above)) {
    if (find_job_field(above) != nullptr) return above;
  }
  return std::nullopt;
}

[[noreturn]] void throw_unknown_key(const std::string& path, const ValueSite& site,
                                    const YAML::Mark& mark) {
  std::string what = "unknown key " + path;
  std::optional<std::string> suggestion;
  if (const auto field = field_above(path)) {
    what += " (" + *field + " takes a value, not keys)";
  } else if ((suggestion = suggest_key(path))) {
    what += " (did you mean " + *suggestion + "?)";
  }
  throw ConfigError(what + site_location(site, mark), {.file = site.file, .key = path},
                    suggestion ? std::string() : "docs/jobs.md lists every key");
}

void reset_section(JobConfig& config, const std::string& section) {
  if (section.empty() || section == kSampling) config.sampling = SamplingParams{};
  for (const JobField& field : job_fields()) {
    if (section.empty() || field.path.starts_with(section + ".")) field.reset(config);
  }
}

// The node under `node` at `key` (a path below `path`), for the position of
// an error that apply_sampling_overrides reports by key only.
YAML::Mark mark_of(const YAML::Node& node, const std::string& path, const std::string& key,
                   const YAML::Mark& fallback) {
  if (!key.starts_with(path + ".")) return fallback;
  YAML::Node current = node;
  YAML::Mark mark = fallback;
  size_t begin = path.size() + 1;
  while (begin <= key.size() && current.IsMap()) {
    const size_t end = std::min(key.find_first_of(".[", begin), key.size());
    const YAML::Node child = current[key.substr(begin, end - begin)];
    if (!child) break;
    if (!child.Mark().is_null()) mark = child.Mark();
    current = child;
    begin = end + 1;
  }
  return mark;
}

// `sampling` and its keys go to apply_sampling_overrides, which knows its
// fields; a null value stands for that field's default.
void apply_sampling(JobConfig& config, const std::string& path, const YAML::Node& node,
                    const ValueSite& site, const YAML::Mark& mark) {
  if (path == kSampling && node.IsNull()) {
    config.sampling = SamplingParams{};
    return;
  }
  nlohmann::json overrides = yaml_to_json(node, path, site);
  if (path == kSampling) {
    if (!overrides.is_object()) {
      throw config_error_at(path, "expected a mapping of sampling keys, got " + describe_node(node),
                            site, mark);
    }
  } else {
    // "sampling.a.b" = v  ->  {"a": {"b": v}}
    std::vector<std::string> names;
    for (std::string rest = path; rest != kSampling; rest = parent_of(rest)) {
      names.push_back(leaf_of(rest));
    }
    for (const std::string& name : names) overrides = nlohmann::json{{name, std::move(overrides)}};
  }
  for (auto& [name, value] : overrides.items()) {
    if (value.is_null() && default_sampling_json().contains(name)) {
      value = default_sampling_json()[name];
    }
  }
  try {
    config.sampling = apply_sampling_overrides(config.sampling, overrides, kSampling);
  } catch (const ConfigError& e) {
    rethrow_at(e, path, site, mark_of(node, path, e.context().key, mark));
  }
}

void apply_mapping(JobConfig& config, const std::string& path, const YAML::Node& node,
                   const ValueSite& site, const YAML::Mark& mark) {
  if (!node.IsMap()) {
    const std::string what = "expected a mapping of keys, got " + describe_node(node);
    if (path.empty()) {
      throw ConfigError("a job file is a mapping of sections (model, input, mode, ...), got " +
                            describe_node(node) + site_location(site, mark),
                        {.file = site.file});
    }
    throw config_error_at(path, what, site, mark);
  }
  std::set<std::string> seen;
  for (const auto& entry : node) {
    const YAML::Node& key = entry.first;
    if (!key.IsScalar()) {
      throw config_error_at(path, "a key must be a name, got " + describe_node(key), site,
                            key.Mark());
    }
    const std::string child = join_key(path, key.Scalar());
    if (!seen.insert(key.Scalar()).second) {
      throw config_error_at(child, "duplicate key", site, key.Mark(),
                            "give each key once per section");
    }
    apply_job_value(config, child, entry.second, site, key.Mark());
  }
}

}  // namespace

void apply_job_value(JobConfig& config, const std::string& path, const YAML::Node& node,
                     const ValueSite& site, const YAML::Mark& key_mark) {
  const YAML::Mark mark = node.Mark().is_null() ? key_mark : node.Mark();
  if (in_sampling(path)) {
    apply_sampling(config, path, node, site, mark);
  } else if (const JobField* field = find_job_field(path)) {
    if (node.IsNull()) {
      field->reset(config);
      return;
    }
    try {
      field->set(config, node);
    } catch (const ConfigError& e) {
      rethrow_at(e, path, site, mark);
    }
  } else if (is_section(path)) {
    if (node.IsNull()) {
      reset_section(config, path);
    } else {
      apply_mapping(config, path, node, site, mark);
    }
  } else {
    throw_unknown_key(path, site, key_mark);
  }
}

}  // namespace llmbatch
