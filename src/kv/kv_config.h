// How big the KV cache is: the shape of one token's K and V across layers,
// the block size, and the number of blocks a byte budget buys.
//
// Every check here is on user input (engine.block_size, engine.kv_dtype,
// engine.kv_cache_memory), so failures are ConfigErrors naming the key.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace llmbatch {

// What one token occupies in the cache: K and V of every layer, each
// [num_kv_heads, head_dim] in `dtype` (BF16 or F32).
struct KvLayout {
  int64_t num_layers = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  DType dtype = DType::BF16;
};

// The bookkeeping's settings (no tensor shapes: see KvStorage for those).
struct KvCacheConfig {
  int64_t block_size = 16;  // tokens per block, a power of two
  int64_t num_blocks = 0;   // e.g. from kv_num_blocks_for_memory()
  bool prefix_caching = true;
  // Blocks that admitting a new sequence must leave free, so running
  // sequences can still grow for a while instead of being preempted at once
  // (vLLM's watermark). Appends to running sequences ignore it.
  int64_t watermark_blocks = 0;
};

// Throws ConfigError (key engine.block_size) unless 1 <= block_size <= 2^16
// and a power of two.
void kv_check_block_size(int64_t block_size);

// Throws ConfigError for non-positive sizes or a dtype other than BF16/F32
// (key engine.kv_dtype).
void kv_check_layout(const KvLayout& layout);

// Throws ConfigError for a bad block size, fewer than one block, more blocks
// than a BlockId can name, or a watermark that leaves no block to allocate.
void kv_check_config(const KvCacheConfig& config);

// layers x 2 (K and V) x kv_heads x head_dim x dtype size.
uint64_t kv_bytes_per_token(const KvLayout& layout);

// Bytes of one block across all layers, K and V.
uint64_t kv_bytes_per_block(const KvLayout& layout, int64_t block_size);

// How many whole blocks fit in `memory_bytes` (engine.kv_cache_memory).
// Throws ConfigError when not even one block fits, saying how much one needs.
int64_t kv_num_blocks_for_memory(const KvLayout& layout, int64_t block_size, uint64_t memory_bytes);

}  // namespace llmbatch
