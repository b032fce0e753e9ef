#include "sampling/logits_processors.h"

#include <limits>

#include "core/error.h"

namespace llmbatch {

void TokenCounts::reset(int64_t vocab_size) {
  if (static_cast<int64_t>(counts_.size()) != vocab_size) {
    counts_.assign(vocab_size, 0);
  } else {
    for (TokenId t : distinct_) counts_[t] = 0;
  }
  distinct_.clear();
}

void TokenCounts::add(std::span<const TokenId> tokens) {
  const auto vocab = static_cast<TokenId>(counts_.size());
  for (TokenId t : tokens) {
    LLMBATCH_CHECK(t >= 0 && t < vocab, "token id outside the vocabulary");
    if (counts_[t]++ == 0) distinct_.push_back(t);
  }
}

void apply_logit_bias(std::span<float> logits, std::span<const std::pair<TokenId, float>> bias) {
  for (const auto& [id, value] : bias) logits[id] += value;
}

void mask_tokens(std::span<float> logits, std::span<const TokenId> ids) {
  for (TokenId id : ids) logits[id] = -std::numeric_limits<float>::infinity();
}

void apply_repetition_penalty(std::span<float> logits, std::span<const TokenId> seen, double penalty) {
  for (TokenId id : seen) {
    const double v = logits[id];
    logits[id] = static_cast<float>(v > 0 ? v / penalty : v * penalty);
  }
}

void apply_presence_frequency_penalties(std::span<float> logits, const TokenCounts& output_counts, double presence,
                                        double frequency) {
  for (TokenId id : output_counts.distinct()) {
    logits[id] = static_cast<float>(logits[id] - presence - frequency * output_counts.count(id));
  }
}

}  // namespace llmbatch
