// Log-probabilities from raw logits, as reported to users: the chosen
// token's logprob and the top-k alternatives, computed from the model's raw
// distribution (before temperature, penalties or truncation), in double,
// with a max-shifted log-sum-exp so nothing overflows.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kv/kv_types.h"

namespace llmbatch {

struct TokenLogprob {
  TokenId token = 0;
  double logprob = 0.0;
};

struct PositionLogprobs {
  TokenLogprob chosen;               // the given (or sampled) token
  int64_t rank = 0;                  // 1 + number of tokens more likely than it
  std::vector<TokenLogprob> top;     // most likely first; ties: lower id first
};

// log(sum(exp(logits))), the normalizer of the softmax.
double log_sum_exp(std::span<const float> logits);

// Logprob of `chosen` and the `top_k` most likely tokens (k <= vocab).
PositionLogprobs position_logprobs(std::span<const float> logits, TokenId chosen, int64_t top_k);

}  // namespace llmbatch
