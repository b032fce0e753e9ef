#include "core/units.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/error.h"

namespace llmbatch {

uint64_t parse_byte_size(std::string_view text, const std::string& key) {
  auto fail = [&]() -> ConfigError {
    return ConfigError("'" + std::string(text) + "' is not a byte size", {.key = key},
                       "write e.g. 4GiB, 512MiB, 2GB or a plain number of bytes");
  };
  size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  const std::string number(text.substr(0, i));
  std::string_view unit = text.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  if (number.empty() || number.front() == '.' || number.find('.') != number.rfind('.')) throw fail();

  struct Unit { std::string_view name; double scale; };
  static constexpr std::array<Unit, 10> kUnits = {{
      {"", 1.0}, {"B", 1.0},
      {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
      {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"TiB", 1099511627776.0},
  }};
  for (const auto& u : kUnits) {
    if (u.name == unit) {
      // strtod, not stod: 400 digits overflow to inf (refused below) where
      // stod would throw std::out_of_range past our errors.
      const double value = std::strtod(number.c_str(), nullptr) * u.scale;
      if (!(value < 9.0e18)) throw fail();  // llround range
      return static_cast<uint64_t>(std::llround(value));
    }
  }
  throw fail();
}

std::string format_bytes(uint64_t bytes) {
  static const char* kNames[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024.0 && unit < 4) {
    value /= 1024.0;
    ++unit;
  }
  char buf[32];
  if (unit == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof buf, "%.2f %s", value, kNames[unit]);
  }
  return buf;
}

}  // namespace llmbatch
