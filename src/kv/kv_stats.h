// A snapshot of KV cache usage for progress lines, status.json and the
// scheduler's metrics. Counts only; the ratios are derived.
#pragma once

#include <cstdint>

namespace llmbatch {

struct KvStats {
  int64_t block_size = 0;
  int64_t num_blocks = 0;
  int64_t blocks_used = 0;       // held by at least one sequence
  int64_t blocks_evictable = 0;  // free, but their content is still a prefix-cache hit
  int64_t blocks_free = 0;       // free and worthless; used + evictable + free = num_blocks
  int64_t blocks_cached = 0;     // registered in the prefix cache (used or evictable)
  int64_t tokens_stored = 0;  // slots of used blocks that hold a token; a shared block counts once
  int64_t prefix_queried_tokens = 0;  // prompt tokens looked up by admitted sequences
  int64_t prefix_hit_tokens = 0;      // of those, tokens served from the cache
  int64_t evictions = 0;              // evictable blocks handed out again
  int64_t copies_on_write = 0;        // shared last blocks copied before a write

  // Allocated slots that hold no token, as a fraction of allocated slots
  // (x100 for "internal waste %"); 0 when nothing is allocated.
  double internal_waste() const {
    const int64_t slots = blocks_used * block_size;
    return slots == 0 ? 0.0 : 1.0 - static_cast<double>(tokens_stored) / static_cast<double>(slots);
  }
  // Hit tokens / queried tokens; 0 before any query.
  double prefix_hit_rate() const {
    return prefix_queried_tokens == 0 ? 0.0
                                      : static_cast<double>(prefix_hit_tokens) /
                                            static_cast<double>(prefix_queried_tokens);
  }
};

}  // namespace llmbatch
