// K and V arrays for a host backend, addressed by the block ids KvCache
// hands out. Per layer, one array
//   [num_blocks, 2 (K, V), num_kv_heads, run]   in layout.dtype (BF16 or F32),
// a block's K and then its V, each head-major, where one KV head's run of a
// block is [head_dim, block_size] for K (the block's keys side by side, dim
// by dim) and [block_size, head_dim] for V (one row per token). So one KV
// head's K or V of a block is one contiguous run, a block's heads follow one
// another, and its V follows its K: attention reads a block's K and V for
// every head as one 12 KiB run (smollm135m) instead of scattered 2 KiB
// runs, which read at a third of the bandwidth (docs/backend.md,
// bench_kv_read). K is kept dim by dim so that attention computes scores as
// FMA chains over the dims with 8 keys to a vector, straight from the cache:
// no transposition for one sequence, and a GEMM's shape for many query rows
// sharing a block (docs/backend.md). kv_head_run(), k_element() and v_row()
// are the one place that spells the layout out; k_data() and v_data() are
// the layer's array and the same array one half block on, so a
// kv_head_run() offset serves both. A device backend keeps its own storage
// with the same addressing and the same bookkeeping.
//
// Memory: one AnonymousMemory mapping (huge pages), zero-filled and
// committed page by page as it is first written (a 4 GiB cache costs
// nothing until used; with huge pages a page is 2 MiB, so the first write
// into a layer's array commits up to 2 MiB around it). Every layer's array
// starts 64-byte aligned; a K or V block is 64-byte aligned when
// block_bytes() is a multiple of 64 (any head_dim that is a multiple of
// 32). Slots no sequence has written read as zeros. Not thread-safe for
// concurrent copy_block() on the same blocks.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/anonymous_memory.h"
#include "kv/kv_config.h"
#include "kv/kv_types.h"

namespace llmbatch {

// First element of `kv_head`'s K run (from k_data()) or V run (from
// v_data()) in block `block`, in a layer's array laid out as above.
constexpr int64_t kv_head_run(int64_t block, int64_t block_size, int64_t num_kv_heads, int64_t head_dim,
                              int64_t kv_head) {
  return (block * 2 * num_kv_heads + kv_head) * block_size * head_dim;
}

// Dim `d` of `kv_head`'s key for the token in cache slot `slot` (kv_slot()),
// from k_data(): one block's keys of a dim are block_size consecutive values.
constexpr int64_t k_element(int64_t slot, int64_t block_size, int64_t num_kv_heads, int64_t head_dim, int64_t kv_head,
                            int64_t d) {
  return kv_head_run(slot / block_size, block_size, num_kv_heads, head_dim, kv_head) + d * block_size +
         slot % block_size;
}

// First element of `kv_head`'s value row (head_dim consecutive values) for
// the token in cache slot `slot`, from v_data().
constexpr int64_t v_row(int64_t slot, int64_t block_size, int64_t num_kv_heads, int64_t head_dim, int64_t kv_head) {
  return kv_head_run(slot / block_size, block_size, num_kv_heads, head_dim, kv_head) + slot % block_size * head_dim;
}

class KvStorage {
 public:
  // Throws ConfigError for a bad layout or block size, IoError when the
  // memory cannot be reserved.
  KvStorage(const KvLayout& layout, int64_t num_blocks, int64_t block_size);
  KvStorage(const KvStorage&) = delete;
  KvStorage& operator=(const KvStorage&) = delete;

  const KvLayout& layout() const { return layout_; }
  int64_t num_blocks() const { return num_blocks_; }
  int64_t block_size() const { return block_size_; }
  // One layer's K (or V) block: block_size * num_kv_heads * head_dim elements.
  size_t block_bytes() const { return block_bytes_; }
  size_t total_bytes() const { return total_bytes_; }

  // Where kv_head_run(), k_element() and v_row() offsets start in a layer's
  // array: K from k_data(), V from v_data() (block_bytes() further on).
  void* k_data(int64_t layer) { return array(layer); }
  void* v_data(int64_t layer) { return array(layer) + block_bytes_; }
  const void* k_data(int64_t layer) const { return array(layer); }
  const void* v_data(int64_t layer) const { return array(layer) + block_bytes_; }

  // One block of a layer's K ([num_kv_heads, head_dim, block_size]) or V
  // ([num_kv_heads, block_size, head_dim]).
  void* k_block(int64_t layer, BlockId block) { return block_in(layer, block); }
  void* v_block(int64_t layer, BlockId block) { return block_in(layer, block) + block_bytes_; }
  const void* k_block(int64_t layer, BlockId block) const { return block_in(layer, block); }
  const void* v_block(int64_t layer, BlockId block) const { return block_in(layer, block) + block_bytes_; }

  // Copies block `src` onto `dst` in every layer's K and V (copy-on-write);
  // src == dst is a bug.
  void copy_block(BlockId src, BlockId dst);

 private:
  uint8_t* array(int64_t layer) const;
  // The block's K, followed by its V.
  uint8_t* block_in(int64_t layer, BlockId block) const;

  KvLayout layout_;
  int64_t num_blocks_;
  int64_t block_size_;
  size_t block_bytes_ = 0;
  size_t array_stride_ = 0;  // bytes between layers' arrays, rounded up to 64
  size_t total_bytes_ = 0;
  AnonymousMemory memory_;
};

}  // namespace llmbatch
