// Turns one row of logits into one token, deterministically: the draw is a
// pure function of the key and the logits, whatever the batch, thread, rank
// or restart (DESIGN.md, Determinism).
//
// Order of operations (as vLLM documents its own), on a copy of the row:
//   1. logit_bias is added;
//   2. min_tokens: while fewer than min_tokens tokens were generated, the
//      stop_token_ids and (unless ignore_eos) the EOS ids get -inf;
//   3. repetition penalty over the distinct prompt + output tokens (HF);
//   4. presence / frequency penalties over the output token counts (OpenAI);
//   5. temperature 0 (below kGreedyTemperature): argmax, lowest id on ties.
//      Otherwise:
//   6. logits / temperature, softmax in double (max-shifted);
//   7. top-k, then top-p over the top-k distribution, then min-p (relative to
//      the most likely token; HF's order);
//   8. one uniform u in (0, 1] from Philox4x32-10 (sample_uniform), and the
//      first token in ascending id order whose cumulative kept weight
//      reaches u * total (inverse CDF).
// Probabilities are computed in double. Tokens are ranked by probability,
// ties broken by the lower id first, so top-k and top-p keep a well-defined
// set even among equal logits.
//
// Cost per row (vocab V): greedy is one pass; top-k is one pass with a
// k-heap plus work on k tokens; no top-k means a softmax over V, and top-p
// then drops tokens too light to matter in one pass and selects the nucleus
// among the rest by partitioning (expected linear), never a full sort.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kv/kv_types.h"
#include "sampling/logits_processors.h"
#include "sampling/sampling_params.h"

namespace llmbatch {

// What a draw is keyed by (DESIGN.md): the job seed (or the request's), the
// record index, the sample index (n > 1) and the output token index.
struct SampleKey {
  uint64_t seed = 0;
  uint64_t record = 0;
  uint32_t sample = 0;
  uint32_t step = 0;
};

// The tokens penalties look at: the prompt and the tokens generated so far.
struct TokenHistory {
  std::span<const TokenId> prompt;
  std::span<const TokenId> output;
};

struct TokenProbability {
  TokenId token = 0;
  double probability = 0.0;
};

// A token and its unnormalized weight, as top-p ranks them.
struct NucleusCandidate {
  double weight = 0.0;
  TokenId id = 0;
};

// The uniform in (0, 1] that sample() draws for `key`: 53 bits of one
// Philox4x32-10 block with key {seed lo, seed hi} and counter {step, sample,
// record lo, record hi}. (record sits in the counter because 128 bits of
// seed and record do not fit Philox's 64-bit key; every field still selects
// its own stream.) Fine enough that tokens of probability 1e-12 are drawn.
double sample_uniform(const SampleKey& key);

// Owns scratch buffers; one per engine thread; not thread-safe.
class Sampler {
 public:
  // logits: [vocab] raw f32. eos_ids: the model's EOS tokens (for min_tokens).
  // Throws ConfigError when a logit_bias or stop_token_ids id is outside the
  // vocabulary (see validate_sampling_params_for_vocab); InternalError on
  // non-finite logits.
  TokenId sample(std::span<const float> logits, const SamplingParams& params, const TokenHistory& history,
                 std::span<const TokenId> eos_ids, const SampleKey& key);

  // The distribution sample() draws from: every token with non-zero
  // probability, ascending ids, probabilities summing to 1 (greedy: the
  // argmax with 1). For tests and tools; costs a sample() plus the list.
  std::vector<TokenProbability> distribution(std::span<const float> logits, const SamplingParams& params,
                                             const TokenHistory& history, std::span<const TokenId> eos_ids);

 private:
  // Steps 1-4; returns the row to sample from (`logits` itself when no step applies).
  std::span<const float> process(std::span<const float> logits, const SamplingParams& params,
                                 const TokenHistory& history, std::span<const TokenId> eos_ids);
  // Steps 6-7: fills weights_ (unnormalized) and the kept set.
  void build_weights(std::span<const float> logits, const SamplingParams& params);
  // Calls f(id, weight) for each kept token in ascending id order while f returns true.
  template <typename F>
  void for_each_kept(F&& f) const;

  std::vector<float> logits_;    // [vocab] the processed row
  std::vector<double> weights_;  // [vocab] exp((logit - max) / T); when dense_, 0 = cut
  std::vector<TokenId> ids_;     // the kept tokens when !dense_ (by id at the end)
  std::vector<NucleusCandidate> candidates_;  // top-p's working set (a prefix of it)
  bool dense_ = true;            // kept set = tokens with weights_[id] > 0 (no top-k)
  TokenCounts seen_;             // prompt + output, for the repetition penalty
  TokenCounts output_counts_;    // output, for presence / frequency
};

}  // namespace llmbatch
