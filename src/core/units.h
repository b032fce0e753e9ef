// Byte sizes as users write them in job files and flags ("4GiB", "2GB").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace llmbatch {

// Parses "123", "512B", "2KB"/"2MB"/"2GB"/"2TB" (powers of 1000) and
// "2KiB"/"2MiB"/"2GiB"/"2TiB" (powers of 1024); a decimal point is allowed
// ("1.5GiB"). Throws ConfigError naming `key` on anything else or overflow.
uint64_t parse_byte_size(std::string_view text, const std::string& key);

// 1536 -> "1.50 KiB"; below 1 KiB: "512 B".
std::string format_bytes(uint64_t bytes);

}  // namespace llmbatch
