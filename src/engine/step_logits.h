// The engine's LogitsSink for one step. Rows of generating sequences are
// kept (one per sequence: few) for the sampler; rows of scoring sequences
// are reduced at once to the next token's logprob and rank, so score mode
// never holds [tokens x vocab] however long its prompts.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "backend/logits_sink.h"
#include "kv/kv_types.h"

namespace llmbatch {

struct ScoredToken {
  TokenId token = 0;
  double logprob = 0.0;
  bool greedy = false;  // no token is more likely (lm-eval's is_greedy per token)
};

class StepLogits : public LogitsSink {
 public:
  // Row `index` of the step is kept for sampling; returns its slot.
  int64_t keep_row();
  // Row `index` is reduced to the logprob of `next`.
  void score_row(TokenId next);
  int64_t num_rows() const { return static_cast<int64_t>(targets_.size()); }

  void consume(int64_t index, std::span<const float> logits) override;

  std::span<const float> kept(int64_t slot) const { return kept_.row(slot); }
  // The scored rows' results, in row order.
  const std::vector<ScoredToken>& scored() const { return scored_; }
  void clear();

 private:
  struct Target {
    bool keep = false;
    TokenId next = 0;
  };
  std::vector<Target> targets_;
  int64_t num_kept_ = 0;
  LogitsBuffer kept_;
  std::vector<ScoredToken> scored_;
};

}  // namespace llmbatch
