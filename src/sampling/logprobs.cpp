#include "sampling/logprobs.h"

#include <cmath>

#include "core/error.h"
#include "sampling/softmax_exp.h"
#include "sampling/top_k.h"

namespace llmbatch {

double log_sum_exp(std::span<const float> logits) {
  LLMBATCH_CHECK(!logits.empty(), "empty logits");
  const float max = max_row(logits.data(), logits.size());
  return max + std::log(sum_exp_row(logits.data(), logits.size(), max));
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

  std::vector<TokenId> ids;
  top_k_ids(logits, top_k, ids);
  for (TokenId id : ids) out.top.push_back({id, logits[id] - norm});
  return out;
}

}  // namespace llmbatch
