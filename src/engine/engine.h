// One rank's inference loop as a library: add tokenized requests, call
// step() until nothing is left, collect finished rows. Each step the
// scheduler picks the batch, the backend runs it, the sampler turns the
// kept logits into tokens, and finished requests become ResultRows.
//
// Determinism: a row's logits do not depend on the batch (batch-invariant
// backend) and every draw is keyed by (seed, request key, sample, token
// index), so a request's output is a pure function of the request, the model
// and the settings: not of max_num_seqs, preemption or what runs beside it.
//
// n > 1: the prompt is prefilled once; when its last token's logits arrive,
// n - 1 more sequences fork from it (sharing every KV block) and each
// sample draws its first token from those same logits.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "backend/backend.h"
#include "engine/engine_request.h"
#include "engine/step_logits.h"
#include "io/record.h"
#include "kv/kv_cache.h"
#include "sampling/sampler.h"
#include "sched/scheduler.h"
#include "tokenizer/tokenizer.h"

namespace llmbatch {

struct EngineOptions {
  SchedulerConfig scheduler;
  int64_t max_model_len = 4096;  // prompt + generated tokens; longer prompts are rejected
  int64_t vocab_size = 0;        // the model's; prompt ids and sampling ids are checked against it
  std::vector<TokenId> eos_ids;  // generation_config's eos_token_id(s)
  // Decodes generated text and finds stop strings; null: token ids only
  // (text stays empty and stop strings are an error).
  const tokenizer::Tokenizer* tokenizer = nullptr;
};

struct EngineCounters {
  int64_t steps = 0;
  int64_t prompt_tokens = 0;     // prompt tokens of admitted requests
  int64_t computed_tokens = 0;   // tokens run through the model (prefill, recompute, decode)
  int64_t generated_tokens = 0;  // sampled tokens
  int64_t requests_finished = 0;
  int64_t requests_rejected = 0;
};

struct StepInfo {
  int64_t num_tokens = 0;     // tokens in the batch
  int64_t num_sequences = 0;  // sequences in the batch
};

class Engine {
 public:
  // `cache` must have the block size and block count the backend was built
  // with. Both must outlive the engine.
  Engine(Backend& backend, KvCache& cache, const EngineOptions& options);
  ~Engine();

  // Queues a request. A request that can never run (prompt over
  // max_model_len or over the whole cache, nothing to score, a bad sampling
  // value for this model) becomes an error row at once.
  void add(EngineRequest request);
  // Runs one step; nullopt when there was nothing to run.
  std::optional<StepInfo> step();
  // Rows of requests finished since the last call: all samples of a request
  // together, ordered by sample.
  std::vector<ResultRow> take_finished();

  bool has_unfinished() const { return scheduler_.has_unfinished(); }
  int64_t num_waiting() const { return scheduler_.num_waiting(); }
  int64_t num_running() const { return scheduler_.num_running(); }
  const EngineCounters& counters() const { return counters_; }
  const Scheduler& scheduler() const { return scheduler_; }

 private:
  struct Request;
  struct SampleSeq;

  void finish_sample(SampleSeq& sample, FinishReason reason);
  void collect_finished();
  void on_logits(SampleSeq& sample, std::span<const float> logits);
  void append_token(SampleSeq& sample, std::span<const float> logits);
  void fork_samples(SampleSeq& parent);
  SampleSeq& new_sample(Request& request, int32_t index, std::vector<TokenId> tokens);

  Backend& backend_;
  KvCache& cache_;
  EngineOptions options_;
  Scheduler scheduler_;
  Sampler sampler_;
  StepLogits logits_;
  std::vector<std::unique_ptr<Request>> requests_;  // unfinished, in arrival order
  std::unordered_map<SeqId, SampleSeq*> live_;       // sequences the scheduler holds
  std::vector<ResultRow> finished_;
  EngineCounters counters_;
  SeqId next_seq_id_ = 0;
};

}  // namespace llmbatch
