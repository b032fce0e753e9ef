// Small value types shared by the KV bookkeeping (block pool, tables, prefix
// cache) and by the storage a backend keeps.
#pragma once

#include <cstdint>

namespace llmbatch {

// Index of a block in the pool. One id addresses the same slot range
// [id * block_size, (id + 1) * block_size) in every layer's K and V storage.
using BlockId = int32_t;
inline constexpr BlockId kNoBlock = -1;

// A sequence as the engine names it (request id x sample index, chosen by the
// scheduler); the KV cache only needs it to be unique among live sequences.
using SeqId = int64_t;

// Token ids as the tokenizer hands them out.
using TokenId = int32_t;

// A copy-on-write the backend must perform (every layer, K and V) before it
// writes the step's new tokens: `dst` starts as a copy of `src`.
struct BlockCopy {
  BlockId src = kNoBlock;
  BlockId dst = kNoBlock;
  bool operator==(const BlockCopy&) const = default;
};

}  // namespace llmbatch
