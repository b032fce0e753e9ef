// The steps that change logits before a token is drawn: logit bias, the
// min_tokens mask, and the repetition, presence and frequency penalties.
// Each works in place on one row of raw f32 logits; Sampler::sample runs
// them in the order it documents. Token ids are checked by the caller.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "kv/kv_types.h"

namespace llmbatch {

// How often each token occurs in some token lists. Backed by a vocab-sized
// array that is reset only where it was touched, so a call costs the length
// of the lists, not the vocabulary.
class TokenCounts {
 public:
  // Forgets the counts; sizes the array for `vocab_size` tokens.
  void reset(int64_t vocab_size);
  // Counts `tokens`; an id outside [0, vocab_size) is an InternalError.
  void add(std::span<const TokenId> tokens);
  int32_t count(TokenId token) const { return counts_[token]; }
  // Each counted token once, in first-seen order.
  std::span<const TokenId> distinct() const { return distinct_; }

 private:
  std::vector<int32_t> counts_;
  std::vector<TokenId> distinct_;
};

// logits[id] += bias for every pair.
void apply_logit_bias(std::span<float> logits /*[vocab]*/, std::span<const std::pair<TokenId, float>> bias);

// logits[id] = -inf for every id: those tokens cannot be drawn.
void mask_tokens(std::span<float> logits /*[vocab]*/, std::span<const TokenId> ids);

// HF / CTRL (Keskar et al. 2019): a logit of a token seen before is divided
// by `penalty` when positive and multiplied by it when negative, so
// penalty > 1 always makes the token less likely. `seen` lists distinct ids.
void apply_repetition_penalty(std::span<float> logits /*[vocab]*/, std::span<const TokenId> seen, double penalty);

// OpenAI: logit -= presence * (count > 0) + frequency * count, with counts
// over the generated tokens.
void apply_presence_frequency_penalties(std::span<float> logits /*[vocab]*/, const TokenCounts& output_counts,
                                        double presence, double frequency);

}  // namespace llmbatch
