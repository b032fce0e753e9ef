// What a caller hands the engine: one record's prompt, already tokenized,
// with its mode and sampling settings. The engine never reads files; the job
// runner and the benchmark build requests and collect ResultRows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kv/kv_types.h"
#include "sampling/sampling_params.h"

namespace llmbatch {

enum class RequestMode {
  kGenerate,  // sample up to sampling.max_tokens tokens, sampling.n times
  kScore,     // prefill only: logprob of every prompt token from `score_from` on
};

struct EngineRequest {
  // Keys the sampling draws (with the seed, sample index and token index)
  // and becomes ResultRow::index: the record's position in the job's input,
  // so a record samples the same tokens whatever runs beside it.
  uint64_t key = 0;
  std::string id;  // passed through to the result rows
  RequestMode mode = RequestMode::kGenerate;
  std::vector<TokenId> prompt;
  // Score mode: the first scored token. 1 scores every token after the
  // first (perplexity of a text); the context length scores a continuation
  // (lm-evaluation-harness log-likelihood).
  int64_t score_from = 1;
  SamplingParams sampling;
};

}  // namespace llmbatch
