#include "sampling/logprobs.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace llmbatch {

double log_sum_exp(std::span<const float> logits) {
  LLMBATCH_CHECK(!logits.empty(), "empty logits");
  const double max = *std::max_element(logits.begin(), logits.end());
  double sum = 0.0;
  for (float v : logits) sum += std::exp(static_cast<double>(v) - max);
  return max + std::log(sum);
}

PositionLogprobs position_logprobs(std::span<const float> logits, TokenId chosen, int64_t top_k) {
  const int64_t vocab = static_cast<int64_t>(logits.size());
  LLMBATCH_CHECK(chosen >= 0 && chosen < vocab, "token id outside the logits");
  LLMBATCH_CHECK(top_k >= 0 && top_k <= vocab, "top_k larger than the vocabulary");
  const double norm = log_sum_exp(logits);
  PositionLogprobs out;
  out.chosen = {chosen, logits[chosen] - norm};
  out.rank = 1;
  for (float v : logits) out.rank += v > logits[chosen] ? 1 : 0;

  std::vector<TokenId> ids(vocab);
  for (int64_t i = 0; i < vocab; ++i) ids[i] = static_cast<TokenId>(i);
  const auto more_likely = [&](TokenId a, TokenId b) { return logits[a] != logits[b] ? logits[a] > logits[b] : a < b; };
  std::partial_sort(ids.begin(), ids.begin() + top_k, ids.end(), more_likely);
  for (int64_t i = 0; i < top_k; ++i) out.top.push_back({ids[i], logits[ids[i]] - norm});
  return out;
}

}  // namespace llmbatch
