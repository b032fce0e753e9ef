// What nlohmann's parse() throws, for the callers that turn it into our
// errors: a syntax error (parse_error, with the byte where it stopped) and
// also a number too large for a double (out_of_range 406, no byte). A
// caller that caught parse_error alone let "1e999" in a config crash the
// process.
#pragma once

#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>

namespace llmbatch {

// The byte where the parser stopped, if the error has one.
inline std::optional<uint64_t> json_error_byte(const nlohmann::json::exception& e) {
  if (const auto* syntax = dynamic_cast<const nlohmann::json::parse_error*>(&e)) return syntax->byte;
  return std::nullopt;
}

}  // namespace llmbatch
