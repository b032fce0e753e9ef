#include "sampling/top_k.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace llmbatch {
namespace {

// Naive: sort every id by (logit descending, id ascending), NaN last.
std::vector<TokenId> reference_top_k(const std::vector<float>& logits, int64_t k) {
  std::vector<TokenId> ids(logits.size());
  std::iota(ids.begin(), ids.end(), 0);
  std::stable_sort(ids.begin(), ids.end(), [&](TokenId a, TokenId b) {
    const float x = logits[a], y = logits[b];
    if (std::isnan(x) || std::isnan(y)) return !std::isnan(x) && std::isnan(y);
    return x > y;
  });
  ids.resize(std::min<size_t>(ids.size(), static_cast<size_t>(std::max<int64_t>(k, 0))));
  return ids;
}

TEST(TopKTest, MatchesAFullSortIncludingTiesAndNans) {
  std::mt19937 rng(21);
  std::vector<TokenId> out = {99};  // stale content must go
  for (size_t vocab : {size_t{1}, size_t{17}, size_t{1000}}) {
    for (bool ties : {false, true}) {
      std::vector<float> logits(vocab);
      std::normal_distribution<float> normal(0.0f, 2.0f);
      for (float& v : logits) v = ties ? std::round(normal(rng)) : normal(rng);
      if (vocab > 10) logits[3] = logits[9] = std::nanf("");
      for (int64_t k : {int64_t{0}, int64_t{1}, int64_t{5}, static_cast<int64_t>(vocab) - 1,
                        static_cast<int64_t>(vocab), static_cast<int64_t>(vocab) + 3}) {
        top_k_ids(logits, k, out);
        EXPECT_EQ(out, reference_top_k(logits, k)) << "vocab " << vocab << " k " << k << " ties " << ties;
      }
    }
  }
}

TEST(TopKTest, DecreasingRowMakesEveryTokenEnterTheHeap) {
  std::vector<float> rising(500);
  for (size_t i = 0; i < rising.size(); ++i) rising[i] = static_cast<float>(i);  // worst case: each id beats the heap
  std::vector<TokenId> out;
  top_k_ids(rising, 3, out);
  EXPECT_EQ(out, (std::vector<TokenId>{499, 498, 497}));
}

}  // namespace
}  // namespace llmbatch
