#include "io/input_options.h"

#include <glob.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <set>

#include "core/error.h"

namespace llmbatch {
namespace {

struct FormatName {
  std::string_view name;
  InputFormat format;
};
constexpr std::array<FormatName, 4> kFormats = {{
    {"jsonl", InputFormat::kJsonl},
    {"openai-batch", InputFormat::kOpenAiBatch},
    {"text", InputFormat::kText},
    {"hdf5-tokens", InputFormat::kHdf5Tokens},
}};

// The sorted matches of one glob pattern. GLOB_MARK appends '/' to
// directories so they can be refused by name.
std::vector<std::string> glob_pattern(const std::string& pattern) {
  glob_t matches{};
  const int rc = glob(pattern.c_str(), GLOB_MARK, nullptr, &matches);
  std::vector<std::string> paths;
  if (rc == 0) paths.assign(matches.gl_pathv, matches.gl_pathv + matches.gl_pathc);
  globfree(&matches);
  // A file whose name holds glob characters ("run[1].jsonl") names itself.
  if (rc == GLOB_NOMATCH && std::filesystem::is_regular_file(pattern)) return {pattern};
  if (rc == GLOB_NOMATCH) {
    throw ConfigError("no file matches '" + pattern + "'", {.key = "input.paths"},
                      "check the path (relative paths start at the working directory)");
  }
  if (rc != 0) {
    throw ConfigError("cannot expand '" + pattern + "' (glob failed: " +
                          (rc == GLOB_NOSPACE ? "out of memory" : "read error") + ")",
                      {.key = "input.paths"});
  }
  for (const auto& path : paths) {
    if (path.ends_with('/')) {
      throw ConfigError("'" + pattern + "' matches the directory '" + path + "'",
                        {.key = "input.paths"}, "name the files, e.g. '" + path + "*.jsonl'");
    }
  }
  std::sort(paths.begin(), paths.end());  // glob sorts by locale; we want bytes
  return paths;
}

}  // namespace

InputFormat parse_input_format(std::string_view name) {
  for (const auto& f : kFormats) {
    if (f.name == name) return f.format;
  }
  throw ConfigError("unknown input format '" + std::string(name) + "'", {.key = "input.format"},
                    "use one of jsonl, openai-batch, text, hdf5-tokens");
}

std::string_view input_format_name(InputFormat format) {
  for (const auto& f : kFormats) {
    if (f.format == format) return f.name;
  }
  throw InternalError("InputFormat out of range");
}

std::vector<std::string> expand_input_paths(std::span<const std::string> patterns) {
  if (patterns.empty()) {
    throw ConfigError("no input files given", {.key = "input.paths"},
                      "list files or globs, e.g. paths: [data/*.jsonl]");
  }
  std::vector<std::string> files;
  std::set<std::filesystem::path> seen;  // canonical: "a.jsonl" and "./a.jsonl" are one file
  for (const auto& pattern : patterns) {
    for (auto& path : glob_pattern(pattern)) {
      if (seen.insert(std::filesystem::weakly_canonical(path)).second) files.push_back(std::move(path));
    }
  }
  return files;
}

}  // namespace llmbatch
