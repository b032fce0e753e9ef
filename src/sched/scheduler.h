// Iteration-level scheduling (Orca, vLLM): every step picks which sequences
// run and how many of their tokens, within a token budget, over a paged KV
// cache it allocates as it goes.
//
// Continuous policy, one step:
//   1. Running sequences in admission order. A sequence with one token to
//      compute (decode) always gets it; a partly prefilled one gets a chunk
//      of what the budget leaves after the decodes still to come. When the
//      KV pool cannot hold a sequence's tokens, the most recently admitted
//      running sequence is preempted: its blocks are freed and it waits at
//      the head of the queue to be recomputed (prefix caching makes that
//      cheap). It may be the sequence itself.
//   2. Waiting sequences, first come first served, while budget,
//      max_num_seqs and KV blocks (above the watermark, and leaving the
//      running ones room to grow: admission_headroom_tokens) allow, each taking
//      its prefix-cache hit and a first chunk. Nothing is admitted in a step
//      that preempted.
// A sequence that cannot run even with the whole cache to itself is
// returned as rejected, never retried forever.
//
// Static policy (the HF Transformers-style baseline, for benchmarks): a
// batch of up to max_num_seqs sequences, each reserving KV for
// reserved_tokens, is admitted only when the previous batch has completely
// finished; nothing is ever preempted.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "kv/kv_cache.h"
#include "sched/sequence.h"

namespace llmbatch {

enum class SchedulerPolicy { kContinuous, kStatic };

// The default of SchedulerConfig::admission_headroom_tokens. Admitting
// into the last free blocks makes a preemption within a few steps, and its
// recomputation (a prefill of the victim's whole context, less what the
// prefix cache kept) costs more than the wait. On 48 sharegpt requests in 80 MiB of KV
// (docs/PERFORMANCE.md): one block (16 tokens) gave 45 preemptions, 7.1k
// recomputed tokens and 155-164 gen tok/s; 80 tokens gave 14, 2.1k and
// 174-197 (four alternated pairs). Much more starves the batch: 128
// tokens, 6 preemptions, 154 tok/s.
constexpr int64_t kAdmissionHeadroomTokens = 80;

struct SchedulerConfig {
  SchedulerPolicy policy = SchedulerPolicy::kContinuous;
  int64_t max_num_seqs = 256;
  int64_t max_num_batched_tokens = 2048;
  // Tokens every running sequence must still be able to grow by, up to its
  // reserved_tokens, in free blocks, for a waiting one to be admitted
  // (continuous policy).
  int64_t admission_headroom_tokens = kAdmissionHeadroomTokens;
};

// seq->tokens[start, start + num_tokens) run in this step.
struct ScheduledChunk {
  Sequence* seq = nullptr;
  int64_t start = 0;
  int64_t num_tokens = 0;
  // Whether the chunk reaches the sequence's last token (its logits then
  // give the next token).
  bool reaches_end() const { return start + num_tokens == static_cast<int64_t>(seq->tokens.size()); }
};

struct RejectedSequence {
  Sequence* seq = nullptr;
  std::string reason;
};

struct SchedulerOutput {
  std::vector<ScheduledChunk> chunks;  // the step's batch, in order
  std::vector<BlockCopy> copies;       // copy-on-write before the step writes K/V
  std::vector<Sequence*> preempted;    // freed this step; waiting again
  std::vector<RejectedSequence> rejected;  // removed (status kFinished); they can never run
  int64_t num_tokens() const;
};

class Scheduler {
 public:
  // Throws ConfigError for non-positive limits (keys engine.max_num_seqs,
  // engine.max_num_batched_tokens).
  Scheduler(KvCache& cache, const SchedulerConfig& config);

  // Queues a new sequence (status kWaiting, not in the cache).
  void add(Sequence* seq);
  // `child` (new) shares every KV block of `parent`, which must be running
  // with all its tokens computed; it runs from the next step on, right
  // after its parent (the n > 1 samples of one prompt).
  void fork(Sequence* parent, Sequence* child);
  // Picks the step. Empty only when nothing is waiting or running.
  SchedulerOutput schedule();
  // The backend ran `output`: its K/V is written (registers full blocks in
  // the prefix cache).
  void complete(const SchedulerOutput& output);
  // Removes a running or waiting sequence and frees its blocks.
  void finish(Sequence* seq);

  // Whether a sequence of `num_tokens` could ever hold its KV: the blocks it
  // needs (one spare token for the next) fit the cache above the watermark.
  bool fits_cache(int64_t num_tokens) const;

  bool has_unfinished() const { return !waiting_.empty() || !running_.empty(); }
  int64_t num_waiting() const { return static_cast<int64_t>(waiting_.size()); }
  int64_t num_running() const { return static_cast<int64_t>(running_.size()); }
  int64_t num_preemptions() const { return num_preemptions_; }
  // Static policy: blocks held for the current batch (0 otherwise).
  int64_t reserved_blocks() const { return reserved_blocks_; }
  const KvCache& cache() const { return cache_; }

 private:
  void schedule_running(SchedulerOutput& out, int64_t& budget);
  void admit_continuous(SchedulerOutput& out, int64_t& budget);
  void admit_static(SchedulerOutput& out);
  // Starts `seq` in the cache (prefix hit plus up to `budget` new tokens)
  // if that leaves the watermark plus `reserve_blocks` free.
  bool add_to_cache(Sequence* seq, int64_t budget, int64_t reserve_blocks, SchedulerOutput& out);
  void preempt(Sequence* seq, SchedulerOutput& out);
  void remove_running(Sequence* seq);
  int64_t blocks_for(int64_t num_tokens) const;
  // Blocks an admission must leave free: those every running sequence needs
  // to grow by admission_headroom_tokens (at most to its reserved_tokens).
  int64_t admission_headroom_blocks() const;
  int64_t pending_tokens(const Sequence* seq) const;

  KvCache& cache_;
  SchedulerConfig config_;
  std::deque<Sequence*> waiting_;
  std::vector<Sequence*> running_;  // admission order
  int64_t num_preemptions_ = 0;
  int64_t reserved_blocks_ = 0;
};

}  // namespace llmbatch
