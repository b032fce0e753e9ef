#include "core/log.h"

#include <cstdlib>

#include <spdlog/sinks/stdout_color_sinks.h>

#include "core/error.h"

namespace llmbatch {
namespace {

constexpr const char* kPattern = "[%H:%M:%S.%e] [%^%l%$] %v";

spdlog::level::level_enum parse_level(const std::string& name, const std::string& source) {
  static const char* kNames[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  for (int i = 0; i < 7; ++i) {
    if (name == kNames[i]) return static_cast<spdlog::level::level_enum>(i);
  }
  throw ConfigError("unknown log level '" + name + "'", {.key = source},
                    "use one of trace, debug, info, warn, error, critical, off");
}

}  // namespace

void log_init(const std::optional<std::string>& level) {
  spdlog::drop("llmbatch");  // log_init may run more than once (tests)
  auto logger = spdlog::stderr_color_mt("llmbatch");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern(kPattern);
  if (level) {
    spdlog::set_level(parse_level(*level, "--log-level"));
  } else if (const char* env = std::getenv("LLMBATCH_LOG_LEVEL"); env && *env) {
    spdlog::set_level(parse_level(env, "LLMBATCH_LOG_LEVEL"));
  } else {
    spdlog::set_level(spdlog::level::info);
  }
}

void log_set_rank(int rank, int world_size) {
  spdlog::set_pattern("[%H:%M:%S.%e] [rank " + std::to_string(rank) + "/" +
                      std::to_string(world_size) + "] [%^%l%$] %v");
}

}  // namespace llmbatch
