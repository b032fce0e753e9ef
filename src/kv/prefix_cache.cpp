#include "kv/prefix_cache.h"

#include <algorithm>
#include <string>

#include "core/error.h"

namespace llmbatch {

namespace {

// splitmix64's finalizer: every input bit flips about half the output bits.
uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

}  // namespace

uint64_t prefix_key_hash(BlockRef parent, std::span<const TokenId> tokens) {
  const uint64_t parent_bits =
      uint64_t{static_cast<uint32_t>(parent.block)} << 32 | parent.generation;
  uint64_t h = mix64(0x6c6c6d6261746368ull ^ parent_bits);
  for (const TokenId t : tokens) h = mix64(h ^ (static_cast<uint32_t>(t) + 0x9e3779b97f4a7c15ull));
  return h;
}

PrefixCache::PrefixCache(int64_t num_blocks, int64_t block_size, KeyHash hash)
    : block_size_(block_size), hash_fn_(hash) {
  LLMBATCH_CHECK(num_blocks >= 1 && block_size >= 1, "prefix cache needs blocks");
  const auto n = static_cast<size_t>(num_blocks);
  tokens_.assign(n * static_cast<size_t>(block_size), 0);
  parent_.assign(n, BlockRef{});
  hash_.assign(n, 0);
  registered_.assign(n, 0);
}

std::optional<BlockId> PrefixCache::find(BlockRef parent, std::span<const TokenId> tokens) const {
  LLMBATCH_CHECK(static_cast<int64_t>(tokens.size()) == block_size_,
                 "prefix lookup needs one full block of tokens");
  const auto it = index_.find(hash_fn_(parent, tokens));
  if (it == index_.end() || !key_matches(it->second, parent, tokens)) return std::nullopt;
  return it->second;
}

bool PrefixCache::insert(BlockRef parent, std::span<const TokenId> tokens, BlockId block) {
  LLMBATCH_CHECK(static_cast<int64_t>(tokens.size()) == block_size_, "only full blocks are cached");
  LLMBATCH_CHECK(!contains(block), "block " + std::to_string(block) + " registered twice");
  const uint64_t hash = hash_fn_(parent, tokens);
  if (!index_.emplace(hash, block).second) return false;
  const auto i = static_cast<size_t>(block);
  std::copy(tokens.begin(), tokens.end(),
            tokens_.begin() + static_cast<ptrdiff_t>(i) * block_size_);
  parent_[i] = parent;
  hash_[i] = hash;
  registered_[i] = 1;
  return true;
}

void PrefixCache::erase(BlockId block) {
  LLMBATCH_CHECK(contains(block), "erasing unregistered block " + std::to_string(block));
  const auto i = static_cast<size_t>(block);
  index_.erase(hash_[i]);
  registered_[i] = 0;
}

bool PrefixCache::contains(BlockId block) const {
  LLMBATCH_CHECK(block >= 0 && static_cast<size_t>(block) < registered_.size(),
                 "block id " + std::to_string(block) + " out of range");
  return registered_[static_cast<size_t>(block)] != 0;
}

bool PrefixCache::key_matches(BlockId block, BlockRef parent,
                              std::span<const TokenId> tokens) const {
  const auto i = static_cast<size_t>(block);
  const auto stored = stored_tokens(block);
  return registered_[i] && parent_[i] == parent &&
         std::equal(tokens.begin(), tokens.end(), stored.begin());
}

std::span<const TokenId> PrefixCache::stored_tokens(BlockId block) const {
  return std::span<const TokenId>(tokens_).subspan(
      static_cast<size_t>(block) * static_cast<size_t>(block_size_),
      static_cast<size_t>(block_size_));
}

}  // namespace llmbatch
