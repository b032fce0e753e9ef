#include "kv/kv_config.h"

#include <bit>
#include <limits>
#include <string>

#include "core/error.h"
#include "core/units.h"
#include "kv/kv_types.h"

namespace llmbatch {

namespace {

// A larger block makes one sequence hold megabytes of unused slots; nothing
// sensible asks for it, and the limit keeps slot arithmetic far from overflow.
constexpr int64_t kMaxBlockSize = int64_t{1} << 16;

}  // namespace

void kv_check_block_size(int64_t block_size) {
  if (block_size < 1 || block_size > kMaxBlockSize ||
      !std::has_single_bit(static_cast<uint64_t>(block_size))) {
    throw ConfigError("KV block size " + std::to_string(block_size) +
                          " is not a power of two between 1 and " + std::to_string(kMaxBlockSize),
                      {.key = "engine.block_size"}, "use 16 (the default), 8 or 32");
  }
}

void kv_check_layout(const KvLayout& layout) {
  if (layout.num_layers < 1 || layout.num_kv_heads < 1 || layout.head_dim < 1) {
    throw ConfigError("KV layout needs at least one layer, KV head and head dimension (got " +
                      std::to_string(layout.num_layers) + " layers, " +
                      std::to_string(layout.num_kv_heads) + " KV heads, head_dim " +
                      std::to_string(layout.head_dim) + ")");
  }
  if (layout.dtype != DType::BF16 && layout.dtype != DType::F32) {
    throw ConfigError(
        "KV cache dtype " + std::string(dtype_name(layout.dtype)) + " is not supported",
        {.key = "engine.kv_dtype"}, "use bf16 or f32");
  }
}

void kv_check_config(const KvCacheConfig& config) {
  kv_check_block_size(config.block_size);
  if (config.num_blocks < 1 || config.num_blocks > std::numeric_limits<BlockId>::max()) {
    throw ConfigError(
        "KV cache needs between 1 and 2^31-1 blocks, got " + std::to_string(config.num_blocks),
        {.key = "engine.kv_cache_memory"},
        "give the KV cache more memory (engine.kv_cache_memory)");
  }
  if (config.watermark_blocks < 0 || config.watermark_blocks >= config.num_blocks) {
    throw ConfigError("KV watermark of " + std::to_string(config.watermark_blocks) +
                      " blocks leaves none of the " + std::to_string(config.num_blocks) +
                      " blocks to allocate");
  }
}

uint64_t kv_bytes_per_token(const KvLayout& layout) {
  kv_check_layout(layout);
  return static_cast<uint64_t>(layout.num_layers) * 2 * static_cast<uint64_t>(layout.num_kv_heads) *
         static_cast<uint64_t>(layout.head_dim) * dtype_size(layout.dtype);
}

uint64_t kv_bytes_per_block(const KvLayout& layout, int64_t block_size) {
  kv_check_block_size(block_size);
  return kv_bytes_per_token(layout) * static_cast<uint64_t>(block_size);
}

int64_t kv_num_blocks_for_memory(const KvLayout& layout, int64_t block_size,
                                 uint64_t memory_bytes) {
  const uint64_t per_block = kv_bytes_per_block(layout, block_size);
  const uint64_t blocks = memory_bytes / per_block;
  if (blocks == 0) {
    throw ConfigError("KV cache memory of " + format_bytes(memory_bytes) +
                          " holds no block; one block of " + std::to_string(block_size) +
                          " tokens needs " + format_bytes(per_block),
                      {.key = "engine.kv_cache_memory"},
                      "raise engine.kv_cache_memory (e.g. 4GiB) or lower engine.block_size");
  }
  const uint64_t max_blocks = static_cast<uint64_t>(std::numeric_limits<BlockId>::max());
  return static_cast<int64_t>(blocks < max_blocks ? blocks : max_blocks);
}

}  // namespace llmbatch
