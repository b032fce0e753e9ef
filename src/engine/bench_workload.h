// Synthetic workloads for `llmbatch bench`: prompts of random token ids with
// chosen lengths, generating exactly their output length (ignore_eos), so
// every run of a workload does the same work.
//
// Length distributions:
//   fixed     every prompt input_len tokens, every output output_len tokens
//             (llama-batched-bench's -npp / -ntg);
//   sharegpt  lognormal input and output lengths shaped like the ShareGPT
//             trace of the vLLM paper (means 161 in / 338 out): ln-lengths
//             normal with sigma = 1.0 and mu = ln(m) - sigma^2 / 2 for
//             m = 166 (input) and 390 (output), each clamped to [4, 1024]
//             tokens, which brings the means down to ~161 and ~338.
//
// Shared work, as in vLLM's benchmarks: `prefix_len` tokens that every
// prompt starts with (a common system prompt, which the prefix cache
// serves), and `n` samples per prompt (sampled at temperature 1 with the
// request's index as its seed, so they differ and every run draws the same).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/engine_request.h"

namespace llmbatch {

enum class LengthDistribution { kFixed, kShareGpt };

struct BenchWorkload {
  LengthDistribution distribution = LengthDistribution::kFixed;
  int64_t input_len = 128;
  int64_t output_len = 128;
  int64_t num_prompts = 256;
  uint64_t seed = 0;
  int64_t prefix_len = 0;  // tokens every prompt starts with, before its own
  int64_t n = 1;           // samples per prompt
};

// Throws ConfigError for an unknown name (key --dataset).
LengthDistribution parse_length_distribution(const std::string& name);

// The requests (keys 0..num_prompts-1), token ids in [0, vocab_size).
// Deterministic in the workload. Throws ConfigError for non-positive sizes,
// a negative prefix_len or n < 1.
std::vector<EngineRequest> bench_requests(const BenchWorkload& workload, int64_t vocab_size);

}  // namespace llmbatch
