// The paged KV cache's bookkeeping (vLLM's PagedAttention block manager): a
// pool of fixed-size blocks shared by all layers, a block table per
// sequence, reference-counted sharing (fork, prefix hits), copy-on-write of a
// shared last block, and the prefix cache. It holds no tensor data: a backend
// keeps the K/V arrays (KvStorage on CPU) and reads the block tables.
//
// One step, as the scheduler and backend drive it:
//   1. new sequence:  hit = match_prefix(prompt); if can_add_sequence(hit, n)
//                     add_sequence(seq, prompt.first(n), hit), and skip the
//                     hit.num_tokens prompt tokens the cache already holds;
//      running one:   append(seq, new_tokens, &copies), false if out of blocks
//                     (preempt someone and retry; nothing changed);
//   2. backend:       performs `copies` (every layer, K and V), then writes the
//                     new tokens' K/V into their slots and runs attention;
//   3. after it:      mark_computed(seq, n) registers the blocks it filled in
//                     the prefix cache; free_sequence(seq) when finished;
//                     fork(parent, child) for n > 1 samples of one prompt.
//
// Last prompt token: match_prefix never covers the whole prompt (at most
// len - 1 tokens, in whole blocks), so at least one prompt token is always
// computed and yields the logits for the first generated token. Score mode
// needs logits at every prompt position: it passes an empty PrefixHit.
//
// Running out of blocks is a return value (false / nullopt), never an
// exception and never an overwrite. Broken preconditions (unknown sequence,
// stale hit) are bugs: LLMBATCH_CHECK throws InternalError.
// Not thread-safe: one engine loop per rank owns its cache.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "kv/block_pool.h"
#include "kv/block_table.h"
#include "kv/kv_config.h"
#include "kv/kv_stats.h"
#include "kv/kv_types.h"
#include "kv/prefix_cache.h"

namespace llmbatch {

// Cached full blocks that hold a prompt's first tokens.
struct PrefixHit {
  std::vector<BlockRef> blocks;  // in order; block i holds tokens [i * bs, (i + 1) * bs)
  int64_t num_tokens = 0;        // blocks.size() * block_size: tokens to skip
  int64_t num_queried = 0;       // the prompt's length (the hit-rate denominator)
};

class KvCache {
 public:
  // Throws ConfigError for a bad config (kv_check_config).
  explicit KvCache(const KvCacheConfig& config);

  const KvCacheConfig& config() const { return config_; }
  int64_t block_size() const { return config_.block_size; }
  int64_t num_blocks() const { return config_.num_blocks; }
  // Blocks allocations can still take (free + evictable).
  int64_t num_available_blocks() const { return pool_.num_available(); }

  // The longest run of cached full blocks starting the prompt, at most
  // (prompt.size() - 1) tokens. Changes nothing; the hit is valid until the
  // next call that allocates (add_sequence, append).
  PrefixHit match_prefix(std::span<const TokenId> prompt) const;

  // Whether add_sequence(seq, tokens, hit) with tokens.size() == num_tokens
  // would succeed while leaving config().watermark_blocks + reserve_blocks
  // available.
  bool can_add_sequence(const PrefixHit& hit, int64_t num_tokens, int64_t reserve_blocks = 0) const;

  // Starts table `seq` (new) holding `tokens`: the hit's blocks, then new
  // blocks for tokens[hit.num_tokens:]. `hit` comes from match_prefix on a
  // prompt that `tokens` starts (tokens.size() >= hit.num_tokens), with no
  // allocation since. Its tokens count as computed. Returns false and
  // changes nothing when can_add_sequence() is false.
  bool add_sequence(SeqId seq, std::span<const TokenId> tokens, const PrefixHit& hit);

  // Whether append(seq, tokens) with tokens.size() == num_tokens would
  // succeed (the watermark does not apply to running sequences).
  bool can_append(SeqId seq, int64_t num_tokens) const;

  // Gives `tokens` slots after seq's current tokens. When the last block is
  // partial and shared (after fork) it is first replaced by a private copy,
  // pushed onto `copies` for the backend. Returns false and changes nothing
  // when the pool is short of blocks.
  bool append(SeqId seq, std::span<const TokenId> tokens, std::vector<BlockCopy>* copies);

  // The backend has written K/V for seq's first `num_computed` tokens (never
  // fewer than before). Registers the full blocks among them in the prefix
  // cache (when enabled): from now on they can be hit, and stay hittable
  // after free_sequence() until evicted.
  void mark_computed(SeqId seq, int64_t num_computed);

  // `child` (new) shares every block of `parent`, whose tokens must all be
  // computed. Never allocates; the first write to the shared last block
  // copies it (append's `copies`).
  void fork(SeqId parent, SeqId child);

  // Drops seq's table. Its blocks that no other table holds become free, or
  // evictable when cached; last blocks first, so a prefix's tail is evicted
  // before its head.
  void free_sequence(SeqId seq);

  bool has_sequence(SeqId seq) const { return tables_.contains(seq); }
  int64_t num_sequences() const { return static_cast<int64_t>(tables_.size()); }
  std::span<const BlockId> block_table(SeqId seq) const { return table(seq).blocks(); }
  int64_t num_tokens(SeqId seq) const { return table(seq).num_tokens(); }
  int64_t num_computed_tokens(SeqId seq) const { return table(seq).num_computed(); }
  int32_t block_ref_count(BlockId block) const { return pool_.ref_count(block); }

  KvStats stats() const;

 private:
  const BlockTable& table(SeqId seq) const;
  BlockTable& table(SeqId seq);
  int64_t blocks_to_take(const PrefixHit& hit, int64_t num_tokens) const;
  bool needs_copy_on_write(const BlockTable& table, int64_t num_new_tokens) const;
  BlockId allocate_block();
  std::vector<BlockId> allocate_blocks(int64_t count);
  void record_fill(const BlockTable& table, int64_t first_new_token);
  void register_computed_blocks(BlockTable& table);

  KvCacheConfig config_;
  BlockPool pool_;
  PrefixCache prefix_;
  std::unordered_map<SeqId, BlockTable> tables_;
  std::vector<int32_t> fill_;  // per used block: slots holding a token
  int64_t tokens_stored_ = 0;
  int64_t prefix_queried_tokens_ = 0;
  int64_t prefix_hit_tokens_ = 0;
  int64_t evictions_ = 0;
  int64_t copies_on_write_ = 0;
};

}  // namespace llmbatch
