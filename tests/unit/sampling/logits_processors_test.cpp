#include "sampling/logits_processors.h"

#include <cmath>
#include <limits>
#include <map>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"

namespace llmbatch {
namespace {

TEST(TokenCountsTest, CountsAndListsDistinctTokensInFirstSeenOrder) {
  TokenCounts counts;
  counts.reset(10);
  const std::vector<TokenId> a = {4, 1, 4, 9};
  const std::vector<TokenId> b = {1, 0, 4};
  counts.add(a);
  counts.add(b);
  EXPECT_EQ(counts.count(4), 3);
  EXPECT_EQ(counts.count(1), 2);
  EXPECT_EQ(counts.count(0), 1);
  EXPECT_EQ(counts.count(2), 0);
  EXPECT_EQ(std::vector<TokenId>(counts.distinct().begin(), counts.distinct().end()),
            (std::vector<TokenId>{4, 1, 9, 0}));
}

TEST(TokenCountsTest, ResetForgetsEverything) {
  TokenCounts counts;
  counts.reset(6);
  const std::vector<TokenId> a = {5, 5, 2};
  counts.add(a);
  counts.reset(6);
  for (TokenId t = 0; t < 6; ++t) EXPECT_EQ(counts.count(t), 0);
  EXPECT_TRUE(counts.distinct().empty());
  counts.reset(3);  // a smaller vocabulary
  const std::vector<TokenId> c = {2};
  counts.add(c);
  EXPECT_EQ(counts.count(2), 1);
}

TEST(TokenCountsTest, OutOfRangeIdsAreBugs) {
  TokenCounts counts;
  counts.reset(4);
  const std::vector<TokenId> high = {4};
  const std::vector<TokenId> negative = {-1};
  EXPECT_THROW(counts.add(high), InternalError);
  EXPECT_THROW(counts.add(negative), InternalError);
}

TEST(LogitsProcessorsTest, LogitBiasAddsAndMaskGivesMinusInfinity) {
  std::vector<float> logits = {1.0f, -2.0f, 0.5f, 3.0f};
  const std::vector<std::pair<TokenId, float>> bias = {{1, 2.5f}, {3, -100.0f}};
  apply_logit_bias(logits, bias);
  EXPECT_EQ(logits, (std::vector<float>{1.0f, 0.5f, 0.5f, -97.0f}));
  const std::vector<TokenId> masked = {0, 2};
  mask_tokens(logits, masked);
  EXPECT_EQ(logits[0], -std::numeric_limits<float>::infinity());
  EXPECT_EQ(logits[1], 0.5f);
  EXPECT_EQ(logits[2], -std::numeric_limits<float>::infinity());
}

// HF RepetitionPenaltyLogitsProcessor: torch.where(score < 0, score * penalty, score / penalty).
TEST(LogitsProcessorsTest, RepetitionPenaltyDividesPositiveAndMultipliesNegative) {
  const std::vector<float> original = {2.0f, -1.5f, 0.0f, 3.0f, -4.0f};
  for (double penalty : {1.3, 0.8}) {
    std::vector<float> logits = original;
    const std::vector<TokenId> seen = {0, 1, 2, 4};
    apply_repetition_penalty(logits, seen, penalty);
    EXPECT_FLOAT_EQ(logits[0], float(2.0 / penalty));
    EXPECT_FLOAT_EQ(logits[1], float(-1.5 * penalty));
    EXPECT_EQ(logits[2], 0.0f);
    EXPECT_EQ(logits[3], 3.0f);  // not seen
    EXPECT_FLOAT_EQ(logits[4], float(-4.0 * penalty));
  }
}

// OpenAI: mu[j] -= c[j] * alpha_frequency + float(c[j] > 0) * alpha_presence.
TEST(LogitsProcessorsTest, PresenceAndFrequencyFollowTheOpenAiFormula) {
  const std::vector<float> original = {1.0f, 2.0f, -1.0f, 0.25f, 4.0f, 0.0f, 0.5f};
  const std::vector<TokenId> output = {1, 4, 1, 6, 1, 4};
  const double presence = 0.6, frequency = -0.3;
  std::map<TokenId, int> c;
  for (TokenId t : output) ++c[t];
  TokenCounts counts;
  counts.reset(7);
  counts.add(output);
  std::vector<float> logits = original;
  apply_presence_frequency_penalties(logits, counts, presence, frequency);
  for (TokenId j = 0; j < 7; ++j) {
    const double expected = original[j] - c[j] * frequency - (c[j] > 0 ? presence : 0.0);
    EXPECT_FLOAT_EQ(logits[j], float(expected)) << j;
  }
}

}  // namespace
}  // namespace llmbatch
