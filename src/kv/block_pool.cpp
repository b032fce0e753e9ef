#include "kv/block_pool.h"

#include <limits>
#include <string>

#include "core/error.h"

namespace llmbatch {

BlockPool::BlockPool(int64_t num_blocks) {
  LLMBATCH_CHECK(num_blocks >= 1 && num_blocks <= std::numeric_limits<BlockId>::max(),
                 "block pool size out of range");
  const auto n = static_cast<size_t>(num_blocks);
  ref_count_.assign(n, 0);
  generation_.assign(n, 0);
  lru_prev_.assign(n, kNoBlock);
  lru_next_.assign(n, kNoBlock);
  evictable_.assign(n, 0);
  free_.reserve(n);
  for (int64_t b = num_blocks - 1; b >= 0; --b) free_.push_back(static_cast<BlockId>(b));
}

std::optional<BlockPool::Allocation> BlockPool::allocate() {
  Allocation out;
  if (!free_.empty()) {
    out.block = free_.back();
    free_.pop_back();
  } else if (lru_head_ != kNoBlock) {
    out.block = lru_head_;
    out.evicted = true;
    lru_remove(out.block);
  } else {
    return std::nullopt;
  }
  const auto i = static_cast<size_t>(out.block);
  LLMBATCH_CHECK(ref_count_[i] == 0, "allocating a block that is still held");
  ref_count_[i] = 1;
  ++generation_[i];
  return out;
}

void BlockPool::retain(BlockId block) {
  check_id(block);
  const auto i = static_cast<size_t>(block);
  if (ref_count_[i] == 0) {
    LLMBATCH_CHECK(evictable_[i], "retaining a free block (only evictable ones can be revived)");
    lru_remove(block);
  }
  ++ref_count_[i];
}

bool BlockPool::release(BlockId block, bool keep_cached) {
  check_id(block);
  const auto i = static_cast<size_t>(block);
  LLMBATCH_CHECK(ref_count_[i] > 0, "releasing block " + std::to_string(block) + " twice");
  if (--ref_count_[i] > 0) return false;
  if (keep_cached) {
    lru_push_back(block);
  } else {
    free_.push_back(block);
  }
  return true;
}

int32_t BlockPool::ref_count(BlockId block) const {
  check_id(block);
  return ref_count_[static_cast<size_t>(block)];
}

uint32_t BlockPool::generation(BlockId block) const {
  check_id(block);
  return generation_[static_cast<size_t>(block)];
}

bool BlockPool::is_evictable(BlockId block) const {
  check_id(block);
  return evictable_[static_cast<size_t>(block)] != 0;
}

void BlockPool::lru_push_back(BlockId block) {
  const auto i = static_cast<size_t>(block);
  lru_prev_[i] = lru_tail_;
  lru_next_[i] = kNoBlock;
  if (lru_tail_ != kNoBlock) {
    lru_next_[static_cast<size_t>(lru_tail_)] = block;
  } else {
    lru_head_ = block;
  }
  lru_tail_ = block;
  evictable_[i] = 1;
  ++num_evictable_;
}

void BlockPool::lru_remove(BlockId block) {
  const auto i = static_cast<size_t>(block);
  const BlockId prev = lru_prev_[i];
  const BlockId next = lru_next_[i];
  (prev != kNoBlock ? lru_next_[static_cast<size_t>(prev)] : lru_head_) = next;
  (next != kNoBlock ? lru_prev_[static_cast<size_t>(next)] : lru_tail_) = prev;
  lru_prev_[i] = kNoBlock;
  lru_next_[i] = kNoBlock;
  evictable_[i] = 0;
  --num_evictable_;
}

void BlockPool::check_id(BlockId block) const {
  LLMBATCH_CHECK(block >= 0 && block < num_blocks(),
                 "block id " + std::to_string(block) + " out of range");
}

}  // namespace llmbatch
