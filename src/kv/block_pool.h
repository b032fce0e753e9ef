// The pool of KV blocks: reference counts and the free lists, nothing else
// (no tensor data, no token ids, no hashes).
//
// A block is in exactly one of three states:
//   used       ref_count > 0, held by one or more block tables;
//   free       ref_count == 0, content worthless, on the free stack;
//   evictable  ref_count == 0, content still registered in the prefix cache,
//              on an LRU list; a prefix hit revives it, allocation evicts it.
// allocate() takes free blocks first (last freed, first reused: its storage is
// the most likely to be in cache) and evicts the least recently released
// evictable block only when none is left. Not thread-safe (one engine loop
// per rank owns its KV cache).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "kv/kv_types.h"

namespace llmbatch {

class BlockPool {
 public:
  explicit BlockPool(int64_t num_blocks);

  struct Allocation {
    BlockId block = kNoBlock;
    // The block was evictable: the caller must drop its prefix-cache entry.
    bool evicted = false;
  };

  // A block with reference count 1 and a new generation, or nullopt when
  // every block is used. A fresh pool hands out 0, 1, 2, ... in order.
  std::optional<Allocation> allocate();

  // One more table holds `block`, which must be used or evictable (an
  // evictable block leaves the LRU list: a prefix hit).
  void retain(BlockId block);

  // One table fewer holds `block`. When none is left it becomes evictable
  // (`keep_cached`: its content is registered in the prefix cache; it goes to
  // the most-recent end of the LRU list) or free. Returns true in that case.
  bool release(BlockId block, bool keep_cached);

  int32_t ref_count(BlockId block) const;
  // Bumped each time allocate() hands the block out, so (block, generation)
  // names one content lifetime of the block.
  uint32_t generation(BlockId block) const;
  bool is_evictable(BlockId block) const;

  int64_t num_blocks() const { return static_cast<int64_t>(ref_count_.size()); }
  // Blocks allocate() can still hand out: free + evictable.
  int64_t num_available() const { return static_cast<int64_t>(free_.size()) + num_evictable_; }
  int64_t num_evictable() const { return num_evictable_; }
  int64_t num_used() const { return num_blocks() - num_available(); }

 private:
  void lru_push_back(BlockId block);
  void lru_remove(BlockId block);
  void check_id(BlockId block) const;

  std::vector<int32_t> ref_count_;
  std::vector<uint32_t> generation_;
  std::vector<BlockId> free_;  // a stack: back() is handed out next
  // Evictable blocks as an intrusive doubly linked list, least recently
  // released at the head: O(1) push, pop and removal on a prefix hit.
  std::vector<BlockId> lru_prev_;
  std::vector<BlockId> lru_next_;
  std::vector<uint8_t> evictable_;
  BlockId lru_head_ = kNoBlock;
  BlockId lru_tail_ = kNoBlock;
  int64_t num_evictable_ = 0;
};

}  // namespace llmbatch
