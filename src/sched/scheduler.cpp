#include "sched/scheduler.h"

#include <algorithm>
#include <span>

#include "core/error.h"

namespace llmbatch {

int64_t SchedulerOutput::num_tokens() const {
  int64_t total = 0;
  for (const auto& chunk : chunks) total += chunk.num_tokens;
  return total;
}

Scheduler::Scheduler(KvCache& cache, const SchedulerConfig& config) : cache_(cache), config_(config) {
  if (config.max_num_seqs < 1) {
    throw ConfigError("must be at least 1, got " + std::to_string(config.max_num_seqs),
                      {.key = "engine.max_num_seqs"});
  }
  LLMBATCH_CHECK(config.admission_headroom_tokens >= 0, "negative admission headroom");
  if (config.max_num_batched_tokens < 1) {
    throw ConfigError("must be at least 1, got " + std::to_string(config.max_num_batched_tokens),
                      {.key = "engine.max_num_batched_tokens"});
  }
}

int64_t Scheduler::blocks_for(int64_t num_tokens) const {
  return (num_tokens + cache_.block_size() - 1) / cache_.block_size();
}

int64_t Scheduler::admission_headroom_blocks() const {
  int64_t blocks = 0;
  for (const Sequence* seq : running_) {
    // Every running sequence of the continuous policy is in the cache.
    // Never room beyond the longest it can get: max_model_len, or its
    // prompt when it is scored.
    const int64_t now = cache_.num_tokens(seq->id);
    const int64_t longest = std::max(now, seq->reserved_tokens);
    blocks += blocks_for(std::min(now + config_.admission_headroom_tokens, longest)) - blocks_for(now);
  }
  return blocks;
}

int64_t Scheduler::pending_tokens(const Sequence* seq) const {
  const int64_t in_cache = cache_.has_sequence(seq->id) ? cache_.num_tokens(seq->id) : 0;
  return static_cast<int64_t>(seq->tokens.size()) - in_cache;
}

bool Scheduler::fits_cache(int64_t num_tokens) const {
  return blocks_for(num_tokens + 1) <= cache_.num_blocks() - cache_.config().watermark_blocks;
}

void Scheduler::add(Sequence* seq) {
  LLMBATCH_CHECK(!cache_.has_sequence(seq->id), "sequence added twice");
  seq->status = SequenceStatus::kWaiting;
  waiting_.push_back(seq);
}

void Scheduler::fork(Sequence* parent, Sequence* child) {
  const auto it = std::find(running_.begin(), running_.end(), parent);
  LLMBATCH_CHECK(it != running_.end(), "fork of a sequence that is not running");
  cache_.fork(parent->id, child->id);
  child->status = SequenceStatus::kRunning;
  running_.insert(it + 1, child);
}

SchedulerOutput Scheduler::schedule() {
  SchedulerOutput out;
  int64_t budget = config_.max_num_batched_tokens;
  if (config_.policy == SchedulerPolicy::kStatic) {
    admit_static(out);
    schedule_running(out, budget);
  } else {
    schedule_running(out, budget);
    admit_continuous(out, budget);
  }
  return out;
}

void Scheduler::schedule_running(SchedulerOutput& out, int64_t& budget) {
  // Decode tokens come first: a prefill chunk only takes what the decodes
  // still to come in this pass leave of the budget.
  int64_t decodes_left = 0;
  for (const Sequence* seq : running_) {
    if (cache_.has_sequence(seq->id) && pending_tokens(seq) == 1) ++decodes_left;
  }
  for (size_t i = 0; i < running_.size(); ++i) {
    Sequence* seq = running_[i];
    if (!cache_.has_sequence(seq->id)) {  // static batch member, not started yet
      if (budget <= decodes_left) continue;
      LLMBATCH_CHECK(add_to_cache(seq, budget - decodes_left, 0, out), "static batch outgrew its KV reservation");
      budget -= out.chunks.back().num_tokens;
      continue;
    }
    const int64_t pending = pending_tokens(seq);
    if (pending == 0) continue;
    const bool decode = pending == 1;
    if (decode) --decodes_left;
    const int64_t count = decode ? std::min<int64_t>(1, budget) : std::min(pending, budget - decodes_left);
    if (count <= 0) continue;

    const int64_t start = cache_.num_tokens(seq->id);
    const std::span<const TokenId> tokens(seq->tokens.data() + start, count);
    bool preempted_self = false;
    while (!cache_.append(seq->id, tokens, &out.copies)) {
      LLMBATCH_CHECK(config_.policy == SchedulerPolicy::kContinuous, "static batch outgrew its KV reservation");
      Sequence* victim = running_.back();  // most recently admitted; never one scheduled before `seq`
      if (victim == seq && running_.size() == 1) {
        // Alone and still short of blocks: it can never run.
        remove_running(seq);
        cache_.free_sequence(seq->id);
        seq->status = SequenceStatus::kFinished;
        out.rejected.push_back({seq, "needs more than the " + std::to_string(cache_.num_blocks()) +
                                         " KV blocks of the cache (" +
                                         std::to_string(seq->tokens.size()) + " tokens)"});
        preempted_self = true;
        break;
      }
      if (victim != seq && pending_tokens(victim) == 1) --decodes_left;
      preempt(victim, out);
      if (victim == seq) {
        preempted_self = true;
        break;
      }
    }
    if (preempted_self) break;  // it was the last running sequence
    out.chunks.push_back({seq, start, count});
    budget -= count;
  }
}

bool Scheduler::add_to_cache(Sequence* seq, int64_t budget, int64_t reserve_blocks, SchedulerOutput& out) {
  PrefixHit hit = cache_.match_prefix(seq->tokens);
  const int64_t allowed_blocks = std::min<int64_t>(static_cast<int64_t>(hit.blocks.size()),
                                                   seq->max_cached_prefix / cache_.block_size());
  hit.blocks.resize(static_cast<size_t>(allowed_blocks));
  hit.num_tokens = allowed_blocks * cache_.block_size();

  const int64_t count = std::min(static_cast<int64_t>(seq->tokens.size()) - hit.num_tokens, budget);
  const int64_t total = hit.num_tokens + count;
  if (!cache_.can_add_sequence(hit, total, reserve_blocks)) return false;
  const bool added = cache_.add_sequence(seq->id, std::span<const TokenId>(seq->tokens.data(), total), hit);
  LLMBATCH_CHECK(added, "add_sequence failed after can_add_sequence");
  out.chunks.push_back({seq, hit.num_tokens, count});
  return true;
}

void Scheduler::admit_continuous(SchedulerOutput& out, int64_t& budget) {
  if (!out.preempted.empty()) return;  // KV is short: let the running ones finish first
  while (!waiting_.empty() && budget > 0 &&
         static_cast<int64_t>(running_.size()) < config_.max_num_seqs) {
    Sequence* seq = waiting_.front();
    if (!add_to_cache(seq, budget, admission_headroom_blocks(), out)) {
      if (!running_.empty()) break;  // blocks come back as running sequences finish
      waiting_.pop_front();
      seq->status = SequenceStatus::kFinished;
      out.rejected.push_back({seq, "its prompt needs more than the " + std::to_string(cache_.num_blocks()) +
                                       " KV blocks of the cache (" + std::to_string(seq->tokens.size()) +
                                       " tokens)"});
      continue;
    }
    budget -= out.chunks.back().num_tokens;
    waiting_.pop_front();
    seq->status = SequenceStatus::kRunning;
    running_.push_back(seq);
  }
}

void Scheduler::admit_static(SchedulerOutput& out) {
  if (!running_.empty()) return;  // the batch waits for its longest member
  reserved_blocks_ = 0;
  const int64_t capacity = cache_.num_blocks() - cache_.config().watermark_blocks;
  while (!waiting_.empty() && static_cast<int64_t>(running_.size()) < config_.max_num_seqs) {
    Sequence* seq = waiting_.front();
    const int64_t need = blocks_for(std::max<int64_t>(seq->reserved_tokens, seq->tokens.size()));
    if (reserved_blocks_ + need > capacity) {
      if (!running_.empty()) break;
      waiting_.pop_front();
      seq->status = SequenceStatus::kFinished;
      out.rejected.push_back({seq, "its reservation of " + std::to_string(need) + " KV blocks exceeds the cache's " +
                                       std::to_string(capacity)});
      continue;
    }
    reserved_blocks_ += need;
    waiting_.pop_front();
    seq->status = SequenceStatus::kRunning;
    running_.push_back(seq);
  }
}

void Scheduler::preempt(Sequence* seq, SchedulerOutput& out) {
  remove_running(seq);
  cache_.free_sequence(seq->id);
  seq->status = SequenceStatus::kWaiting;
  ++seq->num_preemptions;
  ++num_preemptions_;
  waiting_.push_front(seq);  // victims leave latest first, so the earliest ends up in front
  out.preempted.push_back(seq);
}

void Scheduler::complete(const SchedulerOutput& output) {
  for (const auto& chunk : output.chunks) cache_.mark_computed(chunk.seq->id, chunk.start + chunk.num_tokens);
}

void Scheduler::remove_running(Sequence* seq) {
  const auto it = std::find(running_.begin(), running_.end(), seq);
  LLMBATCH_CHECK(it != running_.end(), "sequence is not running");
  running_.erase(it);
}

void Scheduler::finish(Sequence* seq) {
  if (seq->status == SequenceStatus::kRunning) {
    remove_running(seq);
  } else if (seq->status == SequenceStatus::kWaiting) {
    const auto it = std::find(waiting_.begin(), waiting_.end(), seq);
    if (it != waiting_.end()) waiting_.erase(it);
  }
  if (cache_.has_sequence(seq->id)) cache_.free_sequence(seq->id);
  seq->status = SequenceStatus::kFinished;
}

}  // namespace llmbatch
