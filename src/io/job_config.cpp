#include "io/job_config.h"

#include <cerrno>
#include <fstream>
#include <sstream>

#include "io/job_config_apply.h"
#include "io/job_config_fields.h"
#include "io/job_config_overrides.h"
#include "io/job_config_yaml.h"

namespace llmbatch {
namespace {

std::string read_job_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw IoError("cannot open the job file: " + errno_text(errno), {.file = path});
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw IoError("cannot read the job file: " + errno_text(errno), {.file = path});
  return text.str();
}

// yaml-cpp's message for a tab in the indentation ("illegal map value")
// does not say so; the line does.
std::string tab_hint(const std::string& text, const YAML::Mark& mark) {
  if (mark.is_null() || mark.pos > static_cast<int>(text.size())) return {};
  const size_t begin = text.rfind('\n', mark.pos == 0 ? 0 : mark.pos - 1);
  const size_t start = begin == std::string::npos || mark.pos == 0 ? 0 : begin + 1;
  const size_t indent_end = text.find_first_not_of(" \t", start);
  const std::string indent = text.substr(start, indent_end - start);
  if (indent.find('\t') == std::string::npos) return {};
  return "line " + std::to_string(mark.line + 1) + " is indented with a tab; YAML indents with spaces";
}

void apply_job_file(JobConfig& config, const std::string& path) {
  const ValueSite site{.file = path};
  const std::string text = read_job_file(path);
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError("not valid YAML: " + e.msg + site_location(site, e.mark), {.file = path},
                      tab_hint(text, e.mark));
  }
  if (documents.size() > 1) {
    throw ConfigError("the job file holds " + std::to_string(documents.size()) +
                          " YAML documents; a job is one" +
                          site_location(site, documents[1].Mark()),
                      {.file = path}, "remove the '---' separators");
  }
  if (!documents.empty()) {
    apply_job_value(config, "", documents[0], site, documents[0].Mark());
  }
}

// Required keys have no sensible default; name all that are missing at once.
void check_required(const JobConfig& config, const std::optional<std::string>& yaml_path) {
  std::vector<std::string> missing;
  if (config.model.path.empty()) missing.push_back("model.path");
  if (config.input.paths.empty()) missing.push_back("input.paths");
  if (config.output.dir.empty()) missing.push_back("output.dir");
  if (missing.empty()) return;
  std::string list;
  for (const auto& key : missing) list += (list.empty() ? "" : ", ") + key;
  throw ConfigError("missing required key" + std::string(missing.size() > 1 ? "s " : " ") + list,
                    {.file = yaml_path.value_or(""), .key = missing.front()},
                    std::string(missing.size() > 1 ? "set them" : "set it") +
                        " in the job file or with --set " + missing.front() + "=...");
}

}  // namespace

JobConfig load_job_config(const std::optional<std::string>& yaml_path,
                          std::span<const std::string> set_overrides) {
  JobConfig config;
  if (yaml_path) apply_job_file(config, *yaml_path);
  for (const std::string& arg : set_overrides) apply_set_override(config, arg);
  check_required(config, yaml_path);
  if (config.model.tokenizer.empty()) config.model.tokenizer = config.model.path;
  return config;
}

std::string job_config_to_yaml(const JobConfig& config) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  for (const std::string& top : job_top_level_keys()) {
    out << YAML::Key << top << YAML::Value;
    if (top == "sampling") {
      emit_json(out, sampling_params_to_json(config.sampling));
    } else if (const JobField* field = find_job_field(top)) {
      field->emit(out, config);
    } else {
      out << YAML::BeginMap;
      for (const JobField& f : job_fields()) {
        if (!f.path.starts_with(top + ".")) continue;
        out << YAML::Key << f.path.substr(top.size() + 1) << YAML::Value;
        f.emit(out, config);
      }
      out << YAML::EndMap;
    }
  }
  out << YAML::EndMap;
  if (!out.good()) throw InternalError("job config YAML emitter: " + out.GetLastError());
  return std::string(out.c_str()) + "\n";
}

std::span<const std::string> job_config_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> all;
    for (const JobField& field : job_fields()) all.push_back(field.path);
    return all;
  }();
  return keys;
}

bool operator==(const JobConfig& a, const JobConfig& b) {
  return a.model == b.model && a.input == b.input && a.mode == b.mode &&
         sampling_params_to_json(a.sampling) == sampling_params_to_json(b.sampling) &&
         a.output == b.output && a.engine == b.engine && a.parallel == b.parallel;
}

}  // namespace llmbatch
