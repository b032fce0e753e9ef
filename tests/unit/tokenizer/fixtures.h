// Helpers for the tokenizer tests: the expected outputs written by
// tools/make-tokenizer-fixtures.py from the Rust `tokenizers` library.
#pragma once

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace llmbatch::tokenizer::testing {

inline std::string tokenizer_fixture(const std::string& relative) {
  return std::string(LLMBATCH_FIXTURES_DIR) + "/tokenizers/" + relative;
}

inline nlohmann::json load_expected(const std::string& name) {
  std::ifstream in(tokenizer_fixture("expected/" + name));
  std::stringstream buf;
  buf << in.rdbuf();
  return nlohmann::json::parse(buf.str());
}

inline std::string from_hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

inline std::vector<uint32_t> ids_of(const nlohmann::json& list) {
  return list.get<std::vector<uint32_t>>();
}

}  // namespace llmbatch::tokenizer::testing
