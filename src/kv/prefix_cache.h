// The prefix cache's index: which block holds the KV of which full block of
// tokens, given everything before it.
//
// Key choice. vLLM keys a block by a hash of (parent block's hash, the
// block's token ids) and trusts the hash (sha256 since its hash-collision
// CVE-2025-25183). A wrong hit silently serves another prompt's KV, so here a
// hit is verified exactly instead of trusted: the key is (parent block
// identity, token ids), where the parent's identity is (block id,
// generation) and the generation changes whenever the pool hands the block
// out again. The chain of verified parents makes a hit mean "same tokens from
// position 0", whatever an adversary puts in the prompts. A 64-bit hash of the
// key only picks the bucket; two keys with the same hash keep the first one
// cached and the second uncached (a missed hit, never a wrong one).
//
// Trade-off: when a parent block is evicted its cached children become
// unreachable (vLLM can re-link them once the parent is recomputed with the
// same hash). Blocks are released tail first, so children usually go first.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "kv/kv_types.h"

namespace llmbatch {

// One content lifetime of a block: its id and BlockPool::generation().
struct BlockRef {
  BlockId block = kNoBlock;  // kNoBlock: the start of the sequence
  uint32_t generation = 0;
  bool operator==(const BlockRef&) const = default;
};

// The bucket hash of a key: a 64-bit mix of the parent's id, generation and
// every token id. Not a content hash anyone may trust: hits are verified.
uint64_t prefix_key_hash(BlockRef parent, std::span<const TokenId> tokens);

class PrefixCache {
 public:
  using KeyHash = uint64_t (*)(BlockRef parent, std::span<const TokenId> tokens);

  // `hash` is replaceable so tests can force collisions.
  PrefixCache(int64_t num_blocks, int64_t block_size, KeyHash hash = prefix_key_hash);

  // The block registered as holding `tokens` (exactly block_size of them)
  // right after `parent`, if any.
  std::optional<BlockId> find(BlockRef parent, std::span<const TokenId> tokens) const;

  // Registers `block` (not registered yet) as holding `tokens` after
  // `parent`. Returns false and registers nothing when the key, or its
  // bucket hash, is taken already: another sequence computed the same
  // content into another block at the same time.
  bool insert(BlockRef parent, std::span<const TokenId> tokens, BlockId block);

  // Forgets `block`, which must be registered (it is being evicted).
  void erase(BlockId block);

  bool contains(BlockId block) const;
  int64_t size() const { return static_cast<int64_t>(index_.size()); }

 private:
  bool key_matches(BlockId block, BlockRef parent, std::span<const TokenId> tokens) const;
  std::span<const TokenId> stored_tokens(BlockId block) const;

  int64_t block_size_;
  KeyHash hash_fn_;
  std::unordered_map<uint64_t, BlockId> index_;  // key hash -> block
  // Per block, valid while registered: what its key was.
  std::vector<TokenId> tokens_;  // [num_blocks, block_size]
  std::vector<BlockRef> parent_;
  std::vector<uint64_t> hash_;
  std::vector<uint8_t> registered_;
};

}  // namespace llmbatch
