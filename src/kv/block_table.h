// One sequence's view of the KV cache: which block holds each run of
// block_size token positions, the token ids appended so far, and how many of
// them the backend has computed. Token i lives in slot
// blocks()[i / block_size] * block_size + i % block_size of every layer.
//
// The table only records; KvCache decides what to allocate, share or copy.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kv/kv_types.h"
#include "kv/prefix_cache.h"

namespace llmbatch {

class BlockTable {
 public:
  explicit BlockTable(int64_t block_size);

  int64_t block_size() const { return block_size_; }
  int64_t num_tokens() const { return static_cast<int64_t>(tokens_.size()); }
  int64_t num_computed() const { return num_computed_; }
  std::span<const BlockId> blocks() const { return blocks_; }
  std::span<const TokenId> tokens() const { return tokens_; }

  // Tokens of the table that lie in its block `index`.
  int64_t tokens_in_block(int64_t index) const;
  // Blocks to add so that `num_new_tokens` more tokens have a slot.
  int64_t blocks_needed(int64_t num_new_tokens) const;
  // The last block holds tokens and has free slots, so the next append
  // writes into it.
  bool last_block_partial() const { return num_tokens() % block_size_ != 0; }

  // Appends token ids with `new_blocks` (exactly blocks_needed() of them)
  // giving them slots.
  void append(std::span<const TokenId> tokens, std::span<const BlockId> new_blocks);
  // Points the last block at `block` (copy-on-write).
  void replace_last_block(BlockId block);
  void set_num_computed(int64_t num_computed);

  // Prefix-cache chain: the leading full blocks that registration has seen,
  // and the identity the next full block's key names as its parent (the
  // cached block with this content, which may be another table's).
  int64_t num_chained_blocks() const { return num_chained_blocks_; }
  BlockRef chain_tail() const { return chain_tail_; }
  void extend_chain(BlockRef tail);

 private:
  int64_t block_size_;
  std::vector<BlockId> blocks_;
  std::vector<TokenId> tokens_;
  int64_t num_computed_ = 0;
  int64_t num_chained_blocks_ = 0;
  BlockRef chain_tail_;
};

// The slot of token `position` in a sequence whose blocks are `blocks`:
// blocks[position / block_size] * block_size + position % block_size. The
// backends address the KV storage with it.
inline int64_t kv_slot(std::span<const BlockId> blocks, int64_t block_size, int64_t position) {
  return static_cast<int64_t>(blocks[position / block_size]) * block_size + position % block_size;
}

}  // namespace llmbatch
