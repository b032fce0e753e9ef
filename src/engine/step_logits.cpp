#include "engine/step_logits.h"

#include "core/error.h"
#include "sampling/logprobs.h"

namespace llmbatch {

int64_t StepLogits::keep_row() {
  targets_.push_back({.keep = true});
  return num_kept_++;
}

void StepLogits::score_row(TokenId next) { targets_.push_back({.keep = false, .next = next}); }

void StepLogits::consume(int64_t index, std::span<const float> logits) {
  LLMBATCH_CHECK(index >= 0 && index < num_rows(), "logits row out of range");
  const Target& target = targets_[static_cast<size_t>(index)];
  if (target.keep) {
    kept_.consume(kept_.rows(), logits);
    return;
  }
  const PositionLogprobs p = position_logprobs(logits, target.next, 0);
  scored_.push_back({.token = target.next, .logprob = p.chosen.logprob, .greedy = p.rank == 1});
}

void StepLogits::clear() {
  targets_.clear();
  num_kept_ = 0;
  kept_.clear();
  scored_.clear();
}

}  // namespace llmbatch
