#include "kv/kv_cache.h"

#include <algorithm>
#include <string>
#include <utility>

#include "core/error.h"

namespace llmbatch {

namespace {

const KvCacheConfig& checked(const KvCacheConfig& config) {
  kv_check_config(config);
  return config;
}

std::span<const TokenId> block_tokens(std::span<const TokenId> tokens, int64_t index,
                                      int64_t block_size) {
  return tokens.subspan(static_cast<size_t>(index * block_size), static_cast<size_t>(block_size));
}

}  // namespace

KvCache::KvCache(const KvCacheConfig& config)
    : config_(checked(config)),
      pool_(config.num_blocks),
      prefix_(config.num_blocks, config.block_size),
      fill_(static_cast<size_t>(config.num_blocks), 0) {}

PrefixHit KvCache::match_prefix(std::span<const TokenId> prompt) const {
  PrefixHit hit;
  hit.num_queried = static_cast<int64_t>(prompt.size());
  if (!config_.prefix_caching || prompt.empty()) return hit;
  // Whole blocks within the first len - 1 tokens: the last one is computed.
  const int64_t max_blocks = (hit.num_queried - 1) / block_size();
  BlockRef parent;
  for (int64_t i = 0; i < max_blocks; ++i) {
    const auto block = prefix_.find(parent, block_tokens(prompt, i, block_size()));
    if (!block) break;
    parent = BlockRef{*block, pool_.generation(*block)};
    hit.blocks.push_back(parent);
  }
  hit.num_tokens = static_cast<int64_t>(hit.blocks.size()) * block_size();
  return hit;
}

int64_t KvCache::blocks_to_take(const PrefixHit& hit, int64_t num_tokens) const {
  LLMBATCH_CHECK(num_tokens >= hit.num_tokens, "a sequence must hold its whole prefix hit");
  const int64_t total = (num_tokens + block_size() - 1) / block_size();
  // Evictable hit blocks leave the available set just like new ones.
  const auto revived = std::count_if(hit.blocks.begin(), hit.blocks.end(),
                                     [&](BlockRef r) { return pool_.is_evictable(r.block); });
  return total - static_cast<int64_t>(hit.blocks.size()) + revived;
}

bool KvCache::can_add_sequence(const PrefixHit& hit, int64_t num_tokens, int64_t reserve_blocks) const {
  return blocks_to_take(hit, num_tokens) + config_.watermark_blocks + reserve_blocks <= num_available_blocks();
}

bool KvCache::add_sequence(SeqId seq, std::span<const TokenId> tokens, const PrefixHit& hit) {
  LLMBATCH_CHECK(!has_sequence(seq), "sequence " + std::to_string(seq) + " added twice");
  const auto num_tokens = static_cast<int64_t>(tokens.size());
  LLMBATCH_CHECK(hit.num_tokens == static_cast<int64_t>(hit.blocks.size()) * block_size() &&
                     hit.num_tokens <= num_tokens,
                 "prefix hit does not fit the sequence's tokens");
  // A stale or foreign hit would attach another prompt's KV: verify it.
  BlockRef parent;
  for (size_t i = 0; i < hit.blocks.size(); ++i) {
    const BlockRef ref = hit.blocks[i];
    const auto found =
        prefix_.find(parent, block_tokens(tokens, static_cast<int64_t>(i), block_size()));
    LLMBATCH_CHECK(found == ref.block && pool_.generation(ref.block) == ref.generation,
                   "prefix hit is stale (allocation since match_prefix) or for other tokens");
    parent = ref;
  }
  if (!can_add_sequence(hit, num_tokens)) return false;

  std::vector<BlockId> blocks;
  for (const BlockRef ref : hit.blocks) {
    if (pool_.is_evictable(ref.block)) {  // a full block in use again
      fill_[static_cast<size_t>(ref.block)] = static_cast<int32_t>(block_size());
      tokens_stored_ += block_size();
    }
    pool_.retain(ref.block);
    blocks.push_back(ref.block);
  }
  BlockTable table(block_size());
  const auto fresh =
      allocate_blocks(table.blocks_needed(num_tokens) - static_cast<int64_t>(blocks.size()));
  blocks.insert(blocks.end(), fresh.begin(), fresh.end());
  table.append(tokens, blocks);
  record_fill(table, hit.num_tokens);
  table.set_num_computed(hit.num_tokens);
  for (const BlockRef ref : hit.blocks) table.extend_chain(ref);
  prefix_queried_tokens_ += hit.num_queried;
  prefix_hit_tokens_ += hit.num_tokens;
  tables_.emplace(seq, std::move(table));
  return true;
}

bool KvCache::needs_copy_on_write(const BlockTable& table, int64_t num_new_tokens) const {
  return num_new_tokens > 0 && table.last_block_partial() &&
         pool_.ref_count(table.blocks().back()) > 1;
}

bool KvCache::can_append(SeqId seq, int64_t num_tokens) const {
  const BlockTable& t = table(seq);
  const int64_t needed = t.blocks_needed(num_tokens) + (needs_copy_on_write(t, num_tokens) ? 1 : 0);
  return needed <= num_available_blocks();
}

bool KvCache::append(SeqId seq, std::span<const TokenId> tokens, std::vector<BlockCopy>* copies) {
  LLMBATCH_CHECK(copies != nullptr, "append needs a copy list");
  const auto n = static_cast<int64_t>(tokens.size());
  if (!can_append(seq, n)) return false;
  BlockTable& t = table(seq);
  if (needs_copy_on_write(t, n)) {
    // Only a partial block is ever written, so it is never in the prefix
    // cache, and with ref_count > 1 releasing it cannot free it.
    const BlockId src = t.blocks().back();
    const BlockId dst = allocate_block();
    fill_[static_cast<size_t>(dst)] = fill_[static_cast<size_t>(src)];
    tokens_stored_ += fill_[static_cast<size_t>(src)];
    pool_.release(src, /*keep_cached=*/false);
    t.replace_last_block(dst);
    copies->push_back(BlockCopy{src, dst});
    ++copies_on_write_;
  }
  const int64_t first_new = t.num_tokens();
  t.append(tokens, allocate_blocks(t.blocks_needed(n)));
  record_fill(t, first_new);
  return true;
}

void KvCache::mark_computed(SeqId seq, int64_t num_computed) {
  BlockTable& t = table(seq);
  t.set_num_computed(num_computed);
  if (config_.prefix_caching) register_computed_blocks(t);
}

void KvCache::register_computed_blocks(BlockTable& t) {
  const int64_t full = t.num_computed() / block_size();
  for (int64_t i = t.num_chained_blocks(); i < full; ++i) {
    const BlockId block = t.blocks()[static_cast<size_t>(i)];
    const auto tokens = block_tokens(t.tokens(), i, block_size());
    BlockId canonical = block;
    if (!prefix_.contains(block)) {
      // Another sequence may have computed the same content meanwhile: keep
      // its block as the cached one and chain later blocks to it.
      const auto existing = prefix_.find(t.chain_tail(), tokens);
      if (existing) {
        canonical = *existing;
      } else {
        prefix_.insert(t.chain_tail(), tokens, block);
      }
    }
    t.extend_chain(BlockRef{canonical, pool_.generation(canonical)});
  }
}

void KvCache::fork(SeqId parent, SeqId child) {
  LLMBATCH_CHECK(!has_sequence(child), "fork target " + std::to_string(child) + " exists");
  const BlockTable& p = table(parent);
  LLMBATCH_CHECK(p.num_computed() == p.num_tokens(),
                 "fork a sequence only after its appended tokens are computed");
  for (const BlockId block : p.blocks()) pool_.retain(block);
  tables_.emplace(child, p);
}

void KvCache::free_sequence(SeqId seq) {
  const BlockTable& t = table(seq);
  const auto blocks = t.blocks();
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) {
    if (pool_.release(*it, prefix_.contains(*it))) {
      tokens_stored_ -= fill_[static_cast<size_t>(*it)];
      fill_[static_cast<size_t>(*it)] = 0;
    }
  }
  tables_.erase(seq);
}

KvStats KvCache::stats() const {
  KvStats s;
  s.block_size = block_size();
  s.num_blocks = num_blocks();
  s.blocks_used = pool_.num_used();
  s.blocks_evictable = pool_.num_evictable();
  s.blocks_free = pool_.num_available() - pool_.num_evictable();
  s.blocks_cached = prefix_.size();
  s.tokens_stored = tokens_stored_;
  s.prefix_queried_tokens = prefix_queried_tokens_;
  s.prefix_hit_tokens = prefix_hit_tokens_;
  s.evictions = evictions_;
  s.copies_on_write = copies_on_write_;
  return s;
}

const BlockTable& KvCache::table(SeqId seq) const {
  const auto it = tables_.find(seq);
  LLMBATCH_CHECK(it != tables_.end(), "unknown sequence " + std::to_string(seq));
  return it->second;
}

BlockTable& KvCache::table(SeqId seq) {
  return const_cast<BlockTable&>(std::as_const(*this).table(seq));
}

BlockId KvCache::allocate_block() {
  const auto allocation = pool_.allocate();
  // Callers check availability first, so running dry here is a bug.
  LLMBATCH_CHECK(allocation.has_value(), "KV block pool ran dry after a capacity check");
  if (allocation->evicted) {
    prefix_.erase(allocation->block);
    ++evictions_;
  }
  return allocation->block;
}

std::vector<BlockId> KvCache::allocate_blocks(int64_t count) {
  std::vector<BlockId> blocks;
  blocks.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) blocks.push_back(allocate_block());
  return blocks;
}

void KvCache::record_fill(const BlockTable& t, int64_t first_new_token) {
  // New tokens land in blocks only this table holds (fresh ones, or a last
  // block that copy-on-write made private).
  tokens_stored_ += t.num_tokens() - first_new_token;
  const auto num_blocks = static_cast<int64_t>(t.blocks().size());
  for (int64_t i = first_new_token / block_size(); i < num_blocks; ++i) {
    fill_[static_cast<size_t>(t.blocks()[static_cast<size_t>(i)])] =
        static_cast<int32_t>(t.tokens_in_block(i));
  }
}

}  // namespace llmbatch
