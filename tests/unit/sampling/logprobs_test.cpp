#include "sampling/logprobs.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"

namespace llmbatch {
namespace {

TEST(LogprobsTest, LogSumExpIsStableForHugeLogits) {
  const std::vector<float> logits = {1000.0f, 1000.0f};
  EXPECT_NEAR(log_sum_exp(logits), 1000.0 + std::log(2.0), 1e-9);
  const std::vector<float> small = {-1000.0f, -1001.0f};
  EXPECT_NEAR(log_sum_exp(small), -1000.0 + std::log1p(std::exp(-1.0)), 1e-9);
}

TEST(LogprobsTest, ProbabilitiesSumToOneAndMatchTheDefinition) {
  const std::vector<float> logits = {0.5f, -1.0f, 2.0f, 2.0f, 0.0f};
  double total = 0;
  double z = 0;
  for (float v : logits) z += std::exp(double(v));
  for (TokenId t = 0; t < 5; ++t) {
    const auto p = position_logprobs(logits, t, 0);
    EXPECT_NEAR(p.chosen.logprob, std::log(std::exp(double(logits[t])) / z), 1e-12);
    total += std::exp(p.chosen.logprob);
  }
  EXPECT_NEAR(total, 1.0, 1e-12);
}

TEST(LogprobsTest, TopKOrderRankAndTies) {
  const std::vector<float> logits = {0.5f, -1.0f, 2.0f, 2.0f, 0.0f};
  const auto p = position_logprobs(logits, 0, 3);
  ASSERT_EQ(p.top.size(), 3u);
  EXPECT_EQ(p.top[0].token, 2);  // tie with 3: lower id first
  EXPECT_EQ(p.top[1].token, 3);
  EXPECT_EQ(p.top[2].token, 0);
  EXPECT_EQ(p.rank, 3);
  EXPECT_EQ(position_logprobs(logits, 2, 0).rank, 1);
  EXPECT_EQ(position_logprobs(logits, 3, 0).rank, 1);  // equal logits share a rank
  EXPECT_EQ(position_logprobs(logits, 1, 5).top.size(), 5u);
}

TEST(LogprobsTest, BadArgumentsAreBugs) {
  const std::vector<float> logits = {0.0f, 1.0f};
  EXPECT_THROW(position_logprobs(logits, 2, 1), InternalError);
  EXPECT_THROW(position_logprobs(logits, 0, 3), InternalError);
  EXPECT_THROW(log_sum_exp(std::span<const float>()), InternalError);
}

}  // namespace
}  // namespace llmbatch
