#include "kv/block_table.h"

#include <algorithm>

#include "core/error.h"

namespace llmbatch {

BlockTable::BlockTable(int64_t block_size) : block_size_(block_size) {
  LLMBATCH_CHECK(block_size >= 1, "block size must be positive");
}

int64_t BlockTable::tokens_in_block(int64_t index) const {
  LLMBATCH_CHECK(index >= 0 && index < static_cast<int64_t>(blocks_.size()),
                 "block index out of range");
  return std::clamp<int64_t>(num_tokens() - index * block_size_, 0, block_size_);
}

int64_t BlockTable::blocks_needed(int64_t num_new_tokens) const {
  LLMBATCH_CHECK(num_new_tokens >= 0, "negative token count");
  const int64_t total = (num_tokens() + num_new_tokens + block_size_ - 1) / block_size_;
  return std::max<int64_t>(0, total - static_cast<int64_t>(blocks_.size()));
}

void BlockTable::append(std::span<const TokenId> tokens, std::span<const BlockId> new_blocks) {
  LLMBATCH_CHECK(
      static_cast<int64_t>(new_blocks.size()) == blocks_needed(static_cast<int64_t>(tokens.size())),
      "appending tokens with the wrong number of new blocks");
  blocks_.insert(blocks_.end(), new_blocks.begin(), new_blocks.end());
  tokens_.insert(tokens_.end(), tokens.begin(), tokens.end());
}

void BlockTable::replace_last_block(BlockId block) {
  LLMBATCH_CHECK(!blocks_.empty(), "no block to replace");
  blocks_.back() = block;
}

void BlockTable::set_num_computed(int64_t num_computed) {
  LLMBATCH_CHECK(num_computed >= num_computed_ && num_computed <= num_tokens(),
                 "computed tokens must grow and stay within the appended ones");
  num_computed_ = num_computed;
}

void BlockTable::extend_chain(BlockRef tail) {
  LLMBATCH_CHECK((num_chained_blocks_ + 1) * block_size_ <= num_tokens(),
                 "only full blocks join the prefix chain");
  ++num_chained_blocks_;
  chain_tail_ = tail;
}

}  // namespace llmbatch
