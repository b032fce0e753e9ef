// One forward step's work, built once by the scheduler and read by every
// layer (FlashInfer's "plan once per step"): a flat run of new tokens from
// many sequences, each sequence a contiguous run with its own positions and
// KV block table. Prefill chunks and decode tokens mix freely.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kv/kv_types.h"

namespace llmbatch {

struct StepSequence {
  int64_t first_token = 0;     // index of its first new token in StepBatch::token_ids
  int64_t num_tokens = 0;      // 1 for decode, a chunk for prefill
  int64_t start_position = 0;  // position of that token = tokens already in the cache
  std::span<const BlockId> block_table;  // covers start_position + num_tokens tokens
};

struct StepBatch {
  std::vector<TokenId> token_ids;        // [num_tokens]
  std::vector<StepSequence> sequences;   // in token order, contiguous
  // Flat token indices whose next-token logits are wanted, ascending: the
  // last token of a generating sequence, every token when scoring.
  std::vector<int64_t> logit_rows;
  // Copy-on-write block copies to perform before any K/V is written.
  std::vector<BlockCopy> copies;

  int64_t num_tokens() const { return static_cast<int64_t>(token_ids.size()); }
};

}  // namespace llmbatch
