// Typed reads of JSON config fields that name the file and key in every
// error ("config error: 'hidden_size' must be a positive integer [file
// 'config.json', key 'hidden_size']"). Shared by config.json and
// generation_config.json parsing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace llmbatch {

class JsonReader {
 public:
  // `object` must outlive the reader. `file` is used in error messages.
  JsonReader(const nlohmann::json& object, std::string file, std::string key_prefix = "");

  bool has(const std::string& key) const;  // present and not null
  int64_t positive_int(const std::string& key) const;
  std::optional<int64_t> optional_int(const std::string& key) const;
  double positive_number(const std::string& key) const;
  std::optional<double> optional_number(const std::string& key) const;
  std::optional<bool> optional_bool(const std::string& key) const;
  std::optional<std::string> optional_string(const std::string& key) const;
  // An int or a list of ints (eos_token_id); empty when absent or null.
  std::vector<int64_t> int_or_int_list(const std::string& key) const;
  // A nested object, or nullopt when absent or null.
  std::optional<JsonReader> optional_object(const std::string& key) const;

  const std::string& file() const { return file_; }
  std::string key_path(const std::string& key) const { return prefix_ + key; }

 private:
  const nlohmann::json* get(const std::string& key) const;
  [[noreturn]] void fail(const std::string& key, const std::string& what) const;

  const nlohmann::json* object_;
  std::string file_;
  std::string prefix_;
};

// Reads and parses a JSON file; throws IoError / ConfigError naming it.
nlohmann::json read_json_file(const std::string& path);

}  // namespace llmbatch
