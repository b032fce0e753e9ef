// The k most likely tokens of a row of logits, without sorting the row: one
// pass keeps a heap of the k best so far. For real logits only a few tokens
// ever enter the heap, so the cost is about one compare per token
// (O(V + k log k) at worst-case inputs, O(V log k)).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kv/kv_types.h"

namespace llmbatch {

// Fills `out` with the ids of the min(k, V) largest logits, most likely
// first, ties by lower id. NaN logits are never picked over numbers. `out`
// is a caller-owned buffer so that hot loops do not allocate.
void top_k_ids(std::span<const float> logits /*[vocab]*/, int64_t k, std::vector<TokenId>& out);

}  // namespace llmbatch
