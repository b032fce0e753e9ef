#include "engine/engine.h"

#include <algorithm>
#include <utility>

#include "core/error.h"
#include "sampling/logprobs.h"
#include "sampling/stop_checker.h"
#include "tokenizer/incremental_detokenizer.h"

namespace llmbatch {

struct Engine::SampleSeq {
  Sequence seq;
  Request* request = nullptr;
  int32_t index = 0;
  int64_t num_prompt_tokens = 0;
  std::optional<StopChecker> stop;                                 // generate
  std::unique_ptr<tokenizer::IncrementalDetokenizer> detokenizer;  // generate, with a tokenizer
  int64_t next_scored = 0;  // score: the next position whose logprob is due
  ResultRow row;
  bool finished = false;
};

struct Engine::Request {
  EngineRequest request;
  std::vector<std::unique_ptr<SampleSeq>> samples;
  bool forked = false;  // n > 1: the other samples exist
  bool done = false;
};

namespace {

FinishReason finish_reason_for(StopReason reason) {
  switch (reason) {
    case StopReason::kEos: return FinishReason::kEos;
    case StopReason::kStopToken:
    case StopReason::kStopString: return FinishReason::kStop;
    case StopReason::kLength: return FinishReason::kLength;
    case StopReason::kNone: break;
  }
  return FinishReason::kNone;
}

std::vector<uint32_t> to_tokenizer_ids(std::span<const TokenId> ids) { return {ids.begin(), ids.end()}; }

}  // namespace

Engine::Engine(Backend& backend, KvCache& cache, const EngineOptions& options)
    : backend_(backend), cache_(cache), options_(options), scheduler_(cache, options.scheduler) {
  if (options.max_model_len < 2) {
    throw ConfigError("must be at least 2, got " + std::to_string(options.max_model_len),
                      {.key = "model.max_model_len"});
  }
  LLMBATCH_CHECK(options.vocab_size > 0, "EngineOptions::vocab_size not set");
}

Engine::~Engine() = default;

Engine::SampleSeq& Engine::new_sample(Request& request, int32_t index, std::vector<TokenId> tokens) {
  auto sample = std::make_unique<SampleSeq>();
  const EngineRequest& r = request.request;
  sample->seq.id = next_seq_id_++;
  sample->seq.tokens = std::move(tokens);
  sample->request = &request;
  sample->index = index;
  sample->num_prompt_tokens = static_cast<int64_t>(r.prompt.size());
  sample->row.index = static_cast<int64_t>(r.key);
  sample->row.sample = index;
  sample->row.id = r.id;
  sample->row.prompt_ids = r.prompt;
  if (r.mode == RequestMode::kGenerate) {
    sample->stop.emplace(r.sampling, options_.eos_ids);
    if (options_.tokenizer != nullptr) {
      const auto context = to_tokenizer_ids(r.prompt);
      sample->detokenizer = std::make_unique<tokenizer::IncrementalDetokenizer>(
          *options_.tokenizer, r.sampling.skip_special_tokens, context);
    }
    // Static batching reserves the longest any sequence may grow, as a
    // server that preallocates its KV must (vLLM paper, section 2.3).
    sample->seq.reserved_tokens = options_.max_model_len;
  } else {
    sample->seq.max_cached_prefix = r.score_from - 1;
    sample->row.is_greedy = true;  // until a scored token is not the argmax
    sample->next_scored = r.score_from - 1;
    sample->seq.reserved_tokens = sample->num_prompt_tokens;
  }
  live_.emplace(sample->seq.id, sample.get());
  request.samples.push_back(std::move(sample));
  return *request.samples.back();
}

void Engine::add(EngineRequest request) {
  auto owned = std::make_unique<Request>();
  owned->request = std::move(request);
  Request& r = *owned;
  const EngineRequest& req = r.request;
  const auto len = static_cast<int64_t>(req.prompt.size());

  std::string problem;
  if (len == 0) {
    problem = "empty prompt";
  } else if (const auto bad = std::find_if(req.prompt.begin(), req.prompt.end(),
                                           [&](TokenId t) { return t < 0 || t >= options_.vocab_size; });
             bad != req.prompt.end()) {
    problem = "token id " + std::to_string(*bad) + " is outside the vocabulary (size " +
              std::to_string(options_.vocab_size) + ")";
  } else if (req.mode == RequestMode::kGenerate && len >= options_.max_model_len) {
    problem = "prompt of " + std::to_string(len) + " tokens leaves no room to generate within max_model_len " +
              std::to_string(options_.max_model_len);
  } else if (req.mode == RequestMode::kScore && len > options_.max_model_len) {
    problem = "prompt of " + std::to_string(len) + " tokens exceeds max_model_len " +
              std::to_string(options_.max_model_len);
  } else if (req.mode == RequestMode::kScore && (req.score_from < 1 || req.score_from >= len)) {
    problem = "nothing to score: scoring starts at token " + std::to_string(req.score_from) + " of " +
              std::to_string(len);
  } else if (!scheduler_.fits_cache(len)) {
    problem = "prompt of " + std::to_string(len) + " tokens needs more than the " +
              std::to_string(cache_.num_blocks()) + " blocks of the KV cache";
  } else if (req.mode == RequestMode::kGenerate) {
    if (!req.sampling.stop.empty() && options_.tokenizer == nullptr) {
      problem = "stop strings need a tokenizer";
    } else {
      try {
        validate_sampling_params_for_vocab(req.sampling, options_.vocab_size);
      } catch (const ConfigError& e) {
        problem = e.what();
      }
    }
  }
  if (!problem.empty()) {
    SampleSeq& sample = new_sample(r, 0, {});
    sample.row.status = RecordStatus::kError;
    sample.row.error = problem;
    sample.row.is_greedy = false;
    sample.finished = true;
    live_.erase(sample.seq.id);
    ++counters_.requests_rejected;
    r.done = true;
    for (auto& s : r.samples) finished_.push_back(std::move(s->row));
    return;
  }
  counters_.prompt_tokens += len;
  SampleSeq& first = new_sample(r, 0, req.prompt);
  scheduler_.add(&first.seq);
  requests_.push_back(std::move(owned));
}

std::optional<StepInfo> Engine::step() {
  SchedulerOutput out = scheduler_.schedule();
  for (const auto& rejected : out.rejected) {
    SampleSeq& sample = *live_.at(rejected.seq->id);
    sample.row.status = RecordStatus::kError;
    sample.row.error = rejected.reason;
    sample.row.is_greedy = false;
    finish_sample(sample, FinishReason::kNone);
  }
  if (out.chunks.empty()) {
    collect_finished();
    if (out.rejected.empty()) return std::nullopt;
    return StepInfo{};
  }

  StepBatch batch;
  batch.copies = out.copies;
  logits_.clear();
  struct KeptRow {
    SampleSeq* sample;
    int64_t slot;
  };
  struct ScoredRow {
    SampleSeq* sample;
    int64_t position;
  };
  std::vector<KeptRow> kept;
  std::vector<ScoredRow> scored;
  for (const auto& chunk : out.chunks) {
    SampleSeq& sample = *live_.at(chunk.seq->id);
    const auto first = static_cast<int64_t>(batch.token_ids.size());
    const auto& tokens = chunk.seq->tokens;
    batch.token_ids.insert(batch.token_ids.end(), tokens.begin() + chunk.start,
                           tokens.begin() + chunk.start + chunk.num_tokens);
    batch.sequences.push_back({first, chunk.num_tokens, chunk.start, cache_.block_table(chunk.seq->id)});
    if (sample.request->request.mode == RequestMode::kGenerate) {
      if (!chunk.reaches_end()) continue;
      batch.logit_rows.push_back(first + chunk.num_tokens - 1);
      kept.push_back({&sample, logits_.keep_row()});
      continue;
    }
    // Score: logits at position p give the logprob of token p + 1.
    const auto last_scored = static_cast<int64_t>(tokens.size()) - 2;
    for (int64_t p = std::max(chunk.start, sample.request->request.score_from - 1);
         p < chunk.start + chunk.num_tokens && p <= last_scored; ++p) {
      batch.logit_rows.push_back(first + p - chunk.start);
      logits_.score_row(tokens[static_cast<size_t>(p + 1)]);
      scored.push_back({&sample, p});
    }
  }

  backend_.forward(batch, logits_);
  scheduler_.complete(out);
  ++counters_.steps;
  counters_.computed_tokens += batch.num_tokens();

  for (size_t i = 0; i < scored.size(); ++i) {
    SampleSeq& sample = *scored[i].sample;
    // After a preemption, positions are computed again: same bits, counted once.
    if (scored[i].position != sample.next_scored) continue;
    const ScoredToken& s = logits_.scored()[i];
    sample.row.prompt_logprobs.push_back(static_cast<float>(s.logprob));
    sample.row.sum_logprob += s.logprob;
    sample.row.is_greedy = sample.row.is_greedy && s.greedy;
    ++sample.next_scored;
  }
  for (const auto& chunk : out.chunks) {
    SampleSeq& sample = *live_.at(chunk.seq->id);
    if (sample.request->request.mode == RequestMode::kScore && chunk.reaches_end()) {
      finish_sample(sample, FinishReason::kNone);
    }
  }
  for (const auto& row : kept) on_logits(*row.sample, logits_.kept(row.slot));

  collect_finished();
  return StepInfo{.num_tokens = batch.num_tokens(), .num_sequences = static_cast<int64_t>(out.chunks.size())};
}

void Engine::on_logits(SampleSeq& sample, std::span<const float> logits) {
  Request& request = *sample.request;
  if (request.request.sampling.n > 1 && !request.forked) {
    fork_samples(sample);
    // Every sample draws its first token from the prompt's logits.
    for (auto& s : request.samples) append_token(*s, logits);
    return;
  }
  append_token(sample, logits);
}

void Engine::fork_samples(SampleSeq& parent) {
  Request& request = *parent.request;
  request.forked = true;
  for (int32_t i = 1; i < request.request.sampling.n; ++i) {
    SampleSeq& child = new_sample(request, i, parent.seq.tokens);
    scheduler_.fork(&parent.seq, &child.seq);
  }
}

void Engine::append_token(SampleSeq& sample, std::span<const float> logits) {
  const EngineRequest& r = sample.request->request;
  const SamplingParams& params = r.sampling;
  const std::span<const TokenId> all(sample.seq.tokens);
  const TokenHistory history{all.first(sample.num_prompt_tokens), all.subspan(sample.num_prompt_tokens)};
  const SampleKey key{.seed = params.seed,
                      .record = r.key,
                      .sample = static_cast<uint32_t>(sample.index),
                      .step = static_cast<uint32_t>(history.output.size())};
  const TokenId token = sampler_.sample(logits, params, history, options_.eos_ids, key);
  ++counters_.generated_tokens;

  if (params.logprobs >= 0) {
    const PositionLogprobs p = position_logprobs(logits, token, params.logprobs);
    sample.row.token_logprobs.push_back(static_cast<float>(p.chosen.logprob));
    std::vector<TopLogprob> top;
    for (const auto& t : p.top) top.push_back({t.token, static_cast<float>(t.logprob)});
    sample.row.top_logprobs.push_back(std::move(top));
  }
  sample.seq.tokens.push_back(token);
  sample.row.output_ids.push_back(token);
  const std::string piece = sample.detokenizer ? sample.detokenizer->add(static_cast<uint32_t>(token)) : "";
  StopReason why = sample.stop->add(token, piece);
  if (why == StopReason::kNone && static_cast<int64_t>(sample.seq.tokens.size()) >= options_.max_model_len) {
    why = StopReason::kLength;
  }
  if (why != StopReason::kNone) {
    sample.row.text = sample.stop->text();
    if (why != StopReason::kStopString && sample.detokenizer) sample.row.text += sample.detokenizer->flush();
    finish_sample(sample, finish_reason_for(why));
  }
}

void Engine::finish_sample(SampleSeq& sample, FinishReason reason) {
  sample.row.finish_reason = reason;
  sample.finished = true;
  scheduler_.finish(&sample.seq);
  live_.erase(sample.seq.id);
  Request& request = *sample.request;
  const bool all_exist = request.request.mode == RequestMode::kScore || request.request.sampling.n == 1 ||
                         request.forked || sample.row.status == RecordStatus::kError;
  if (!all_exist) return;
  if (std::all_of(request.samples.begin(), request.samples.end(), [](const auto& s) { return s->finished; })) {
    request.done = true;
  }
}

void Engine::collect_finished() {
  // Requests are removed here, after the step, so no pointer into them
  // dangles while a step handles its rows.
  std::erase_if(requests_, [&](const std::unique_ptr<Request>& request) {
    if (!request->done) return false;
    auto& samples = request->samples;
    std::sort(samples.begin(), samples.end(), [](const auto& a, const auto& b) { return a->index < b->index; });
    for (auto& s : samples) finished_.push_back(std::move(s->row));
    ++counters_.requests_finished;
    return true;
  });
}

std::vector<ResultRow> Engine::take_finished() { return std::exchange(finished_, {}); }

}  // namespace llmbatch
