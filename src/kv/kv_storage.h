// K and V arrays for a host backend, addressed by the block ids KvCache
// hands out. Per layer, one array
//   [num_blocks, 2 (K, V), num_kv_heads, run]   in layout.dtype (BF16 or F32),
// a block's K and then its V, each head-major. One KV head's run of a block
// is kept in 32-bit words, W = kv_word_values(dtype) values to a word (2
// bf16, 1 f32):
//   K  [head_dim / W, block_size, W]: the block's keys side by side, word by
//      word, a word holding W consecutive dims of one key;
//   V  [block_size / P, head_dim, P], P = min(W, block_size): one row per P
//      tokens, a word holding the value of one dim for P consecutive tokens.
// So one KV head's K or V of a block is one contiguous run, a block's heads
// follow one another, and its V follows its K: attention reads a block's K
// and V for every head as one 12 KiB run (smollm135m) instead of scattered
// 2 KiB runs, which read at a third of the bandwidth (docs/backend.md,
// bench_kv_read). The words are what a bf16 dot product instruction
// (VDPBF16PS: per 32-bit lane, a pair of products) takes straight from the
// cache: q·K with 16 keys to a vector pairs dims, P·V with 16 dims to a
// vector pairs tokens. The f32 kernels split a K word into two vectors and
// widen a token's V from a load at its own value, so the layout costs them
// nothing (docs/backend.md). kv_head_run(), k_run_offset() and
// v_run_offset() are the one place that spells the layout out (k_element()
// and v_element() put them together); k_data() and v_data() are the
// layer's array and the same array one half block on, so a kv_head_run()
// offset serves both. A device backend keeps its own storage with the same
// addressing and the same bookkeeping.
//
// Memory: one AnonymousMemory mapping (huge pages), zero-filled and
// committed at creation. Every layer's array starts 64-byte aligned, and
// kKvReadableTail readable bytes follow the last one (vector loads may read
// one value past a run's end); a K or V block is 64-byte aligned when
// block_bytes() is a multiple of 64 (any head_dim that is a multiple of 32). Slots no
// sequence has written read as zeros. Not thread-safe for concurrent
// copy_block() on the same blocks.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/anonymous_memory.h"
#include "core/dtype.h"
#include "kv/kv_config.h"
#include "kv/kv_types.h"

namespace llmbatch {

// First element of `kv_head`'s K run (from k_data()) or V run (from
// v_data()) in block `block`, in a layer's array laid out as above.
constexpr int64_t kv_head_run(int64_t block, int64_t block_size, int64_t num_kv_heads, int64_t head_dim,
                              int64_t kv_head) {
  return (block * 2 * num_kv_heads + kv_head) * block_size * head_dim;
}

// Readable bytes after the storage's last array.
constexpr size_t kKvReadableTail = 64;

// Values of a KV dtype to a 32-bit word of the layout: 2 for bf16, 1 for f32
// (the storage's dtypes; 1 for any other, as a portable kernel reads them).
constexpr int64_t kv_word_values(DType dtype) { return dtype == DType::BF16 ? 2 : 1; }

// Consecutive tokens whose values of a dim share a word: W, or 1 in a block
// of one token.
constexpr int64_t v_tokens_per_word(int64_t block_size, int64_t word_values) {
  return block_size < word_values ? block_size : word_values;
}

// Dim `d` of the key of token `i` of a block, from the start of one head's
// K run, with `word_values` values to a word.
constexpr int64_t k_run_offset(int64_t i, int64_t d, int64_t block_size, int64_t word_values) {
  return (d / word_values * block_size + i) * word_values + d % word_values;
}

// Dim `d` of the value of token `i` of a block, from the start of one
// head's V run, with `tokens_per_word` (v_tokens_per_word()) tokens to a word.
constexpr int64_t v_run_offset(int64_t i, int64_t d, int64_t head_dim, int64_t tokens_per_word) {
  return (i / tokens_per_word * head_dim + d) * tokens_per_word + i % tokens_per_word;
}

// Dim `d` of `kv_head`'s key for the token in cache slot `slot` (kv_slot()),
// from k_data(), with `word_values` values to a word.
constexpr int64_t k_element(int64_t slot, int64_t block_size, int64_t num_kv_heads, int64_t head_dim, int64_t kv_head,
                            int64_t d, int64_t word_values) {
  return kv_head_run(slot / block_size, block_size, num_kv_heads, head_dim, kv_head) +
         k_run_offset(slot % block_size, d, block_size, word_values);
}

// Dim `d` of `kv_head`'s value for the token in cache slot `slot`, from
// v_data(), with `word_values` values to a word: a token's dims lie
// v_tokens_per_word() values apart.
constexpr int64_t v_element(int64_t slot, int64_t block_size, int64_t num_kv_heads, int64_t head_dim, int64_t kv_head,
                            int64_t d, int64_t word_values) {
  return kv_head_run(slot / block_size, block_size, num_kv_heads, head_dim, kv_head) +
         v_run_offset(slot % block_size, d, head_dim, v_tokens_per_word(block_size, word_values));
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

  // Where kv_head_run(), k_element() and v_element() offsets start in a layer's
  // array: K from k_data(), V from v_data() (block_bytes() further on).
  void* k_data(int64_t layer) { return array(layer); }
  void* v_data(int64_t layer) { return array(layer) + block_bytes_; }
  const void* k_data(int64_t layer) const { return array(layer); }
  const void* v_data(int64_t layer) const { return array(layer) + block_bytes_; }

  // One block of a layer's K or V: num_kv_heads runs laid out as above.
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
