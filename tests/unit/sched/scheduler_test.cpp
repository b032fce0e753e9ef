#include "sched/scheduler.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>

#include "core/error.h"

namespace llmbatch {
namespace {

// Drives a Scheduler the way the engine does, with a fake model: when a
// chunk reaches a sequence's last token, the "sampled" token is appended,
// until the sequence holds `target` tokens. Checks the scheduler's promises
// on every step.
class Driver {
 public:
  Driver(int64_t num_blocks, SchedulerConfig config, int64_t block_size = 4, int64_t watermark = 0)
      : cache_({.block_size = block_size, .num_blocks = num_blocks, .prefix_caching = true,
                .watermark_blocks = watermark}),
        scheduler_(cache_, config),
        config_(config) {}

  Sequence* add(int64_t prompt_len, int64_t target, TokenId first_token = -1) {
    auto seq = std::make_unique<Sequence>();
    seq->id = static_cast<SeqId>(seqs_.size());
    const TokenId base = first_token >= 0 ? first_token : static_cast<TokenId>(1000 * (seq->id + 1));
    for (int64_t i = 0; i < prompt_len; ++i) seq->tokens.push_back(base + static_cast<TokenId>(i));
    seq->reserved_tokens = target;
    targets_[seq->id] = target;
    scheduler_.add(seq.get());
    seqs_.push_back(std::move(seq));
    return seqs_.back().get();
  }

  SchedulerOutput step() {
    SchedulerOutput out = scheduler_.schedule();
    ++steps_;
    EXPECT_LE(out.num_tokens(), config_.max_num_batched_tokens);
    std::set<SeqId> seen;
    for (const auto& chunk : out.chunks) {
      EXPECT_TRUE(seen.insert(chunk.seq->id).second) << "sequence scheduled twice in one step";
      EXPECT_GT(chunk.num_tokens, 0);
      if (started_.insert(chunk.seq->id).second) {
        // A first chunk starts after whole cached blocks, never at the last token.
        EXPECT_EQ(chunk.start % cache_.block_size(), 0);
        EXPECT_LT(chunk.start, static_cast<int64_t>(chunk.seq->tokens.size()));
      } else {
        EXPECT_EQ(chunk.start, computed_[chunk.seq->id]);  // continues where it stopped
      }
      EXPECT_EQ(cache_.num_tokens(chunk.seq->id), chunk.start + chunk.num_tokens);
      EXPECT_EQ(chunk.seq->status, SequenceStatus::kRunning);
    }
    for (Sequence* seq : out.preempted) started_.erase(seq->id);
    scheduler_.complete(out);
    for (const auto& chunk : out.chunks) {
      computed_[chunk.seq->id] = chunk.start + chunk.num_tokens;
      if (!chunk.reaches_end()) continue;
      Sequence* seq = chunk.seq;
      if (static_cast<int64_t>(seq->tokens.size()) >= targets_[seq->id]) {
        scheduler_.finish(seq);
        finished_.push_back(seq->id);
      } else {
        seq->tokens.push_back(static_cast<TokenId>(7 + seq->tokens.size()));
      }
    }
    for (const auto& r : out.rejected) rejected_.push_back(r.seq->id);
    max_running_ = std::max(max_running_, scheduler_.num_running());
    return out;
  }

  void run(int64_t max_steps = 10000) {
    while (scheduler_.has_unfinished() && steps_ < max_steps) step();
    ASSERT_FALSE(scheduler_.has_unfinished()) << "no progress after " << max_steps << " steps";
  }

  KvCache cache_;
  Scheduler scheduler_;
  SchedulerConfig config_;
  std::vector<std::unique_ptr<Sequence>> seqs_;
  std::map<SeqId, int64_t> targets_, computed_;
  std::set<SeqId> started_;
  std::vector<SeqId> finished_, rejected_;
  int64_t steps_ = 0, max_running_ = 0;
};

TEST(Scheduler, RejectsNonPositiveLimits) {
  KvCache cache({.block_size = 4, .num_blocks = 8});
  EXPECT_THROW(Scheduler(cache, {.max_num_seqs = 0}), ConfigError);
  EXPECT_THROW(Scheduler(cache, {.max_num_batched_tokens = 0}), ConfigError);
  EXPECT_THROW(Scheduler(cache, {.admission_headroom_tokens = -1}), InternalError);
  EXPECT_NO_THROW(Scheduler(cache, {.admission_headroom_tokens = 0}));
}

TEST(Scheduler, ChunksLongPromptsWithinTheTokenBudget) {
  Driver d(64, {.max_num_seqs = 4, .max_num_batched_tokens = 8});
  Sequence* seq = d.add(20, 22);
  const auto first = d.step();
  ASSERT_EQ(first.chunks.size(), 1u);
  EXPECT_EQ(first.chunks[0].start, 0);
  EXPECT_EQ(first.chunks[0].num_tokens, 8);
  EXPECT_FALSE(first.chunks[0].reaches_end());
  d.step();
  const auto third = d.step();
  EXPECT_EQ(third.chunks[0].start, 16);
  EXPECT_EQ(third.chunks[0].num_tokens, 4);
  EXPECT_EQ(seq->tokens.size(), 21u);  // the chunk reached the end: a token was sampled
  d.run();
  EXPECT_EQ(d.finished_, std::vector<SeqId>{seq->id});
  EXPECT_EQ(d.cache_.num_available_blocks(), 64);  // everything freed (or evictable)
}

TEST(Scheduler, DecodesComeFirstAndPrefillTakesTheRest) {
  Driver d(256, {.max_num_seqs = 8, .max_num_batched_tokens = 10});
  for (int i = 0; i < 3; ++i) d.add(2, 40);
  d.step();  // three 2-token prefills
  d.add(100, 101);
  const auto out = d.step();
  // Three decodes, then the new prompt's first chunk gets what is left.
  ASSERT_EQ(out.chunks.size(), 4u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(out.chunks[i].num_tokens, 1);
  EXPECT_EQ(out.chunks[3].num_tokens, 7);
  // While the long prompt is still prefilling, decodes still run every step.
  const auto next = d.step();
  EXPECT_EQ(next.num_tokens(), 10);
  int64_t decodes = 0;
  for (const auto& c : next.chunks) decodes += c.num_tokens == 1;
  EXPECT_EQ(decodes, 3);
  d.run();
  EXPECT_EQ(d.finished_.size(), 4u);
}

TEST(Scheduler, RespectsMaxNumSeqsAndRefillsFinishedSlots) {
  Driver d(512, {.max_num_seqs = 3, .max_num_batched_tokens = 64});
  for (int i = 0; i < 10; ++i) d.add(3, 3 + 1 + i % 4);
  d.run();
  EXPECT_EQ(d.max_running_, 3);
  EXPECT_EQ(d.finished_.size(), 10u);
  // First come, first served: the first three finish before the last one starts.
  EXPECT_EQ(d.scheduler_.num_preemptions(), 0);
}

TEST(Scheduler, PreemptsTheMostRecentlyAdmittedAndStillFinishesEverything) {
  // 12 blocks of 4 tokens; three sequences that each grow to 16 tokens (4 blocks)
  // plus their own prompt: they cannot all run to the end together.
  Driver d(10, {.max_num_seqs = 8, .max_num_batched_tokens = 64, .admission_headroom_tokens = 0});
  for (int i = 0; i < 3; ++i) d.add(4, 16);
  d.step();  // all three admitted, no headroom asked
  bool saw_preemption = false;
  while (d.scheduler_.has_unfinished() && d.steps_ < 1000) {
    const auto out = d.step();
    if (!out.preempted.empty()) {
      saw_preemption = true;
      // The victim is the latest admitted of those running: the highest id here.
      for (const auto& chunk : out.chunks) EXPECT_LT(chunk.seq->id, out.preempted.front()->id);
    }
  }
  EXPECT_TRUE(saw_preemption);
  EXPECT_GT(d.scheduler_.num_preemptions(), 0);
  EXPECT_EQ(d.finished_.size(), 3u);
  EXPECT_TRUE(d.rejected_.empty());
  for (const auto& seq : d.seqs_) EXPECT_EQ(static_cast<int64_t>(seq->tokens.size()), 16);
  EXPECT_EQ(d.cache_.num_available_blocks(), 10);
}

TEST(Scheduler, RejectsAPromptThatCannotFitTheWholeCache) {
  Driver d(4, {.max_num_seqs = 8, .max_num_batched_tokens = 64});
  d.add(40, 41);
  Sequence* ok = d.add(3, 5);
  d.run();
  EXPECT_EQ(d.rejected_, std::vector<SeqId>{0});
  EXPECT_EQ(d.finished_, std::vector<SeqId>{ok->id});
  EXPECT_FALSE(d.scheduler_.fits_cache(40));
  EXPECT_TRUE(d.scheduler_.fits_cache(14));   // 15 tokens: 4 blocks
  EXPECT_FALSE(d.scheduler_.fits_cache(16));  // 17 tokens: 5 blocks
}

TEST(Scheduler, RejectsASequenceThatOutgrowsTheCacheAlone) {
  Driver d(4, {.max_num_seqs = 8, .max_num_batched_tokens = 8});
  d.add(4, 100);  // would need 25 blocks
  d.run();
  EXPECT_EQ(d.rejected_, std::vector<SeqId>{0});
  EXPECT_EQ(d.cache_.num_available_blocks(), 4);
}

TEST(Scheduler, WatermarkKeepsBlocksForRunningSequences) {
  Driver d(8, {.max_num_seqs = 8, .max_num_batched_tokens = 64}, 4, 3);
  d.add(16, 17);  // 4 blocks
  d.add(8, 9);    // 2 more would leave 2 < watermark 3
  const auto out = d.step();
  ASSERT_EQ(out.chunks.size(), 1u);
  EXPECT_EQ(d.scheduler_.num_waiting(), 1);
  d.run();
  EXPECT_EQ(d.finished_.size(), 2u);
}

// Admission leaves every running sequence its headroom in free blocks, so a
// newcomer does not take the blocks the running ones grow into; never more
// than a sequence can still grow (its reserved_tokens).
TEST(Scheduler, AdmissionLeavesEveryRunningSequenceItsHeadroom) {
  struct Case {
    int64_t headroom, first_target;
    bool admitted;
  };
  // 10 blocks of 4 tokens; `first` holds 4 once its first token is sampled,
  // `second` needs 4 of the 6 left: 2 stay free, room for 8 more tokens.
  for (const Case& c : {Case{0, 40, true}, Case{4, 40, true}, Case{8, 40, true}, Case{9, 40, false},
                        Case{12, 40, false}, Case{80, 20, true}}) {
    Driver d(10, {.max_num_seqs = 8, .max_num_batched_tokens = 64, .admission_headroom_tokens = c.headroom});
    Sequence* first = d.add(15, c.first_target);
    d.step();
    Sequence* second = d.add(15, 16);
    const auto out = d.step();
    EXPECT_EQ(second->status, c.admitted ? SequenceStatus::kRunning : SequenceStatus::kWaiting) << c.headroom;
    EXPECT_EQ(out.chunks.size(), c.admitted ? 2u : 1u) << c.headroom;
    EXPECT_EQ(out.chunks[0].seq, first);
    d.run();
    EXPECT_EQ(d.finished_.size(), 2u);
    if (!c.admitted) {
      EXPECT_EQ(d.finished_, (std::vector<SeqId>{first->id, second->id}));
    }
    EXPECT_EQ(d.scheduler_.num_preemptions(), 0) << c.headroom;
  }
}

TEST(Scheduler, ReusesCachedPrefixBlocksButNotBeyondMaxCachedPrefix) {
  Driver d(64, {.max_num_seqs = 8, .max_num_batched_tokens = 64});
  d.add(10, 11, 500);
  d.run();
  Sequence* hit = d.add(10, 11, 500);
  auto out = d.step();
  ASSERT_EQ(out.chunks.size(), 1u);
  EXPECT_EQ(out.chunks[0].start, 8);  // two full blocks of 4 come from the cache
  d.run();
  Sequence* limited = d.add(10, 11, 500);
  limited->max_cached_prefix = 5;  // only the first block may come from the cache
  out = d.step();
  EXPECT_EQ(out.chunks[0].start, 4);
  limited->max_cached_prefix = 0;
  d.run();
  Sequence* none = d.add(10, 11, 500);
  none->max_cached_prefix = 0;
  out = d.step();
  EXPECT_EQ(out.chunks[0].start, 0);
  d.run();
  EXPECT_NE(hit->id, none->id);
}

TEST(Scheduler, ForkedChildRunsRightAfterItsParentSharingBlocks) {
  Driver d(64, {.max_num_seqs = 8, .max_num_batched_tokens = 64});
  Sequence* parent = d.add(6, 9);
  auto out = d.scheduler_.schedule();
  d.scheduler_.complete(out);
  auto child = std::make_unique<Sequence>();
  child->id = 99;
  child->tokens = parent->tokens;
  d.scheduler_.fork(parent, child.get());
  EXPECT_EQ(d.cache_.block_table(99)[0], d.cache_.block_table(parent->id)[0]);
  EXPECT_EQ(d.cache_.block_ref_count(d.cache_.block_table(99)[0]), 2);
  parent->tokens.push_back(1);
  child->tokens.push_back(2);
  out = d.scheduler_.schedule();
  ASSERT_EQ(out.chunks.size(), 2u);
  EXPECT_EQ(out.chunks[0].seq, parent);
  EXPECT_EQ(out.chunks[1].seq, child.get());
  // The shared partial last block is copied for whichever writes it first... both write: one copy.
  EXPECT_EQ(out.copies.size(), 1u);
  d.scheduler_.complete(out);
  d.scheduler_.finish(child.get());
  d.scheduler_.finish(parent);
  EXPECT_EQ(d.cache_.num_available_blocks(), 64);
}

TEST(Scheduler, StaticBatchWaitsForItsLongestMemberAndNeverPreempts) {
  SchedulerConfig config{.policy = SchedulerPolicy::kStatic, .max_num_seqs = 4, .max_num_batched_tokens = 64};
  Driver d(64, config);
  for (int i = 0; i < 6; ++i) d.add(3, i == 0 ? 30 : 5);
  d.step();
  EXPECT_EQ(d.scheduler_.num_running(), 4);
  EXPECT_EQ(d.scheduler_.reserved_blocks(), 8 + 3 * 2);  // 30 tokens: 8 blocks; 5 tokens: 2 blocks
  // Members 1..3 finish early; nobody is admitted until member 0 is done.
  while (d.seqs_[0]->status != SequenceStatus::kFinished) {
    d.step();
    if (d.seqs_[0]->status != SequenceStatus::kFinished) {
      EXPECT_EQ(d.seqs_[4]->status, SequenceStatus::kWaiting);
    }
  }
  d.run();
  EXPECT_EQ(d.finished_.size(), 6u);
  EXPECT_EQ(d.scheduler_.num_preemptions(), 0);
}

TEST(Scheduler, StaticBatchSizeIsLimitedByReservations) {
  SchedulerConfig config{.policy = SchedulerPolicy::kStatic, .max_num_seqs = 16, .max_num_batched_tokens = 64};
  Driver d(10, config);
  for (int i = 0; i < 5; ++i) d.add(3, 16);  // 4 blocks each: two fit in 10
  d.step();
  EXPECT_EQ(d.scheduler_.num_running(), 2);
  d.run();
  EXPECT_EQ(d.finished_.size(), 5u);
}

TEST(Scheduler, FinishRemovesWaitingSequences) {
  Driver d(64, {.max_num_seqs = 1, .max_num_batched_tokens = 64});
  d.add(3, 8);
  Sequence* waiting = d.add(3, 8);
  d.step();
  d.scheduler_.finish(waiting);
  EXPECT_EQ(d.scheduler_.num_waiting(), 0);
  EXPECT_EQ(waiting->status, SequenceStatus::kFinished);
}

}  // namespace
}  // namespace llmbatch
