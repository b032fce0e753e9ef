// Logging through spdlog, to stderr (stdout is for data a command prints).
// Level: --log-level, else LLMBATCH_LOG_LEVEL, else "info".
#pragma once

#include <optional>
#include <string>

#include <spdlog/spdlog.h>

namespace llmbatch {

// Sets up the default logger. `level` is one of trace, debug, info, warn,
// error, critical, off; nullopt reads LLMBATCH_LOG_LEVEL. Throws ConfigError
// for an unknown level name.
void log_init(const std::optional<std::string>& level = std::nullopt);

// Prefixes every later line with "[rank R/N]" (multi-rank jobs).
void log_set_rank(int rank, int world_size);

}  // namespace llmbatch
