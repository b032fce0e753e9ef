// One sequence as the scheduler sees it: its tokens (prompt, then whatever
// has been generated) and how far its KV has been written. The engine owns
// sequences and their requests; the scheduler only decides which of them
// run in a step and how many of their tokens.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "kv/kv_types.h"

namespace llmbatch {

enum class SequenceStatus { kWaiting, kRunning, kFinished };

struct Sequence {
  SeqId id = 0;  // unique among live sequences (the KV table's name)
  std::vector<TokenId> tokens;  // prompt, then generated tokens
  // A prefix-cache hit may cover at most this many leading tokens: scoring
  // needs logits from some position on, and cached positions yield none.
  int64_t max_cached_prefix = std::numeric_limits<int64_t>::max();
  // The most tokens the sequence can come to hold (max_model_len; its
  // prompt when it is scored): the static policy holds KV slots for them
  // all its life, the continuous one never keeps admission headroom beyond.
  int64_t reserved_tokens = 0;

  // Kept by the scheduler.
  SequenceStatus status = SequenceStatus::kWaiting;
  int64_t num_preemptions = 0;
};

}  // namespace llmbatch
