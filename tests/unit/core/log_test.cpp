#include "core/log.h"

#include <cstdlib>

#include <gtest/gtest.h>

#include "core/error.h"

namespace llmbatch {
namespace {

TEST(LogTest, ExplicitLevelWins) {
  ::setenv("LLMBATCH_LOG_LEVEL", "error", 1);
  log_init("debug");
  EXPECT_EQ(spdlog::get_level(), spdlog::level::debug);
}

TEST(LogTest, EnvironmentLevelIsUsed) {
  ::setenv("LLMBATCH_LOG_LEVEL", "warn", 1);
  log_init();
  EXPECT_EQ(spdlog::get_level(), spdlog::level::warn);
  ::unsetenv("LLMBATCH_LOG_LEVEL");
  log_init();
  EXPECT_EQ(spdlog::get_level(), spdlog::level::info);
}

TEST(LogTest, UnknownLevelIsAConfigError) {
  EXPECT_THROW(log_init("verbose"), ConfigError);
  ::setenv("LLMBATCH_LOG_LEVEL", "loud", 1);
  EXPECT_THROW(log_init(), ConfigError);
  ::unsetenv("LLMBATCH_LOG_LEVEL");
}

TEST(LogTest, RankPrefixDoesNotThrow) {
  log_init("info");
  EXPECT_NO_THROW(log_set_rank(1, 4));
  spdlog::info("hello from a rank");
}

}  // namespace
}  // namespace llmbatch
