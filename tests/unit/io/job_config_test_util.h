// Helpers for the job config tests: a job file written to a scratch path,
// the --set flags that supply the required keys, and catching the
// ConfigError a load throws.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "io/job_config.h"

#define EXPECT_CONTAINS(text, part)                                  \
  EXPECT_NE(std::string(text).find(part), std::string::npos)         \
      << "'" << std::string(text) << "' does not contain '" << (part) << "'"

namespace llmbatch::test {

// A job file under the temp dir holding `text`, removed on destruction.
// The pid keeps parallel ctest processes apart; the counter, files in one.
class JobFile {
 public:
  explicit JobFile(const std::string& text) {
    static int counter = 0;
    path_ = (std::filesystem::temp_directory_path() /
             ("llmbatch_job_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) +
              ".yaml"))
                .string();
    std::ofstream(path_, std::ios::binary) << text;
  }
  ~JobFile() { std::filesystem::remove(path_); }
  JobFile(const JobFile&) = delete;
  JobFile& operator=(const JobFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The three required keys, so a test can load a config without a file.
inline std::vector<std::string> required_sets() {
  return {"model.path=/models/m", "input.paths=[in.jsonl]", "output.dir=/out"};
}

inline JobConfig load_text(const std::string& yaml, const std::vector<std::string>& sets = {}) {
  JobFile file(yaml);
  return load_job_config(file.path(), sets);
}

// The ConfigError that `load` throws; a test failure (and an empty error)
// when it throws nothing or something else.
inline ConfigError config_error_of(const std::function<void()>& load) {
  try {
    load();
  } catch (const ConfigError& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a ConfigError: " << e.what();
    return ConfigError("");
  }
  ADD_FAILURE() << "no error thrown";
  return ConfigError("");
}

inline ConfigError yaml_error(const std::string& yaml, const std::vector<std::string>& sets = {}) {
  return config_error_of([&] { load_text(yaml, sets); });
}

inline ConfigError set_error(std::vector<std::string> sets) {
  return config_error_of([&] { load_job_config(std::nullopt, sets); });
}

}  // namespace llmbatch::test
