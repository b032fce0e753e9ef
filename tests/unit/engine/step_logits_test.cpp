#include "engine/step_logits.h"

#include <gtest/gtest.h>

#include <cmath>

#include "sampling/logprobs.h"

namespace llmbatch {
namespace {

TEST(StepLogits, KeepsSamplingRowsAndReducesScoringRows) {
  StepLogits logits;
  EXPECT_EQ(logits.keep_row(), 0);
  logits.score_row(2);
  EXPECT_EQ(logits.keep_row(), 1);
  logits.score_row(0);
  EXPECT_EQ(logits.num_rows(), 4);

  const std::vector<std::vector<float>> rows = {{1, 2, 3}, {0.5f, 0.1f, 3.0f}, {4, 5, 6}, {0.2f, 0.7f, 0.1f}};
  for (int64_t i = 0; i < 4; ++i) logits.consume(i, rows[static_cast<size_t>(i)]);
  EXPECT_EQ(std::vector<float>(logits.kept(0).begin(), logits.kept(0).end()), rows[0]);
  EXPECT_EQ(std::vector<float>(logits.kept(1).begin(), logits.kept(1).end()), rows[2]);
  ASSERT_EQ(logits.scored().size(), 2u);
  const double norm = std::log(std::exp(0.5) + std::exp(0.1) + std::exp(3.0));
  EXPECT_NEAR(logits.scored()[0].logprob, 3.0 - norm, 1e-6);
  EXPECT_TRUE(logits.scored()[0].greedy);
  EXPECT_EQ(logits.scored()[1].token, 0);
  EXPECT_FALSE(logits.scored()[1].greedy);

  logits.clear();
  EXPECT_EQ(logits.num_rows(), 0);
  EXPECT_TRUE(logits.scored().empty());
}

}  // namespace
}  // namespace llmbatch
