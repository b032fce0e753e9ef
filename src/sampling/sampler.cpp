#include "sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/philox.h"
#include "sampling/softmax_exp.h"
#include "sampling/top_k.h"

namespace llmbatch {
namespace {

// First index of the largest value: lowest id on ties. Two passes (a
// vectorized max, then a search that stops early) beat one pass that
// tracks the index.
TokenId argmax(std::span<const float> logits) {
  const float max = max_row(logits.data(), logits.size());
  const auto it = std::find(logits.begin(), logits.end(), max);
  if (it == logits.end()) throw InternalError("logits are all NaN");
  return static_cast<TokenId>(it - logits.begin());
}

// Four running sums: the adds overlap instead of waiting on each other.
double sum(std::span<const double> values) {
  double lanes[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= values.size(); i += 4) {
    for (size_t j = 0; j < 4; ++j) lanes[j] += values[i + j];
  }
  for (; i < values.size(); ++i) lanes[0] += values[i];
  return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
}

bool more_probable(const NucleusCandidate& a, const NucleusCandidate& b) {
  return a.weight != b.weight ? a.weight > b.weight : a.id < b.id;
}

// Reorders `c` so that its first `count` entries are the fewest most
// probable tokens (weight descending, lower id first on ties) whose weights
// sum to at least `target`, and returns count. Quickselect on the mass:
// each round partitions the open range around its middle and keeps the half
// where the cut falls, so the cost is O(c) expected, not a sort.
size_t select_nucleus(std::span<NucleusCandidate> c, double target) {
  // c[0, lo) are in the nucleus with mass `acc` < target; the cut is in [lo, hi).
  size_t lo = 0, hi = c.size();
  double acc = 0.0;
  constexpr size_t kSortBelow = 64;
  while (hi - lo > kSortBelow) {
    const size_t mid = lo + (hi - lo) / 2;
    std::nth_element(c.begin() + lo, c.begin() + mid, c.begin() + hi, more_probable);
    double mass = 0.0;
    for (size_t i = lo; i <= mid; ++i) mass += c[i].weight;
    if (acc + mass >= target) {
      hi = mid + 1;
    } else {
      acc += mass;
      lo = mid + 1;
    }
  }
  std::sort(c.begin() + lo, c.begin() + hi, more_probable);
  for (size_t i = lo; i < hi; ++i) {
    acc += c[i].weight;
    if (acc >= target) return i + 1;
  }
  return hi;  // rounding left the sum a hair short: keep the whole range
}

}  // namespace

double sample_uniform(const SampleKey& key) {
  const PhiloxCounter counter = {key.step, key.sample, static_cast<uint32_t>(key.record),
                                 static_cast<uint32_t>(key.record >> 32)};
  const PhiloxKey philox_key = {static_cast<uint32_t>(key.seed), static_cast<uint32_t>(key.seed >> 32)};
  const PhiloxCounter r = philox4x32(counter, philox_key);
  const uint64_t bits = ((uint64_t{r[0]} << 32) | r[1]) >> 11;  // 53 bits
  return static_cast<double>(bits + 1) * 0x1p-53;
}

std::span<const float> Sampler::process(std::span<const float> logits, const SamplingParams& p,
                                        const TokenHistory& history, std::span<const TokenId> eos_ids) {
  const int64_t vocab = static_cast<int64_t>(logits.size());
  const bool mask_stops = static_cast<int64_t>(history.output.size()) < p.min_tokens;
  const bool repetition = p.repetition_penalty != 1.0;
  const bool presence_frequency = p.presence_penalty != 0.0 || p.frequency_penalty != 0.0;
  if (p.logit_bias.empty() && !mask_stops && !repetition && !presence_frequency) return logits;

  validate_sampling_params_for_vocab(p, vocab);
  logits_.assign(logits.begin(), logits.end());
  apply_logit_bias(logits_, p.logit_bias);
  if (mask_stops) {
    if (!p.ignore_eos) {
      for (TokenId id : eos_ids) LLMBATCH_CHECK(id >= 0 && id < vocab, "EOS id outside the vocabulary");
      mask_tokens(logits_, eos_ids);
    }
    mask_tokens(logits_, p.stop_token_ids);
  }
  if (repetition) {
    seen_.reset(vocab);
    seen_.add(history.prompt);
    seen_.add(history.output);
    apply_repetition_penalty(logits_, seen_.distinct(), p.repetition_penalty);
  }
  if (presence_frequency) {
    output_counts_.reset(vocab);
    output_counts_.add(history.output);
    apply_presence_frequency_penalties(logits_, output_counts_, p.presence_penalty, p.frequency_penalty);
  }
  return logits_;
}

void Sampler::build_weights(std::span<const float> logits, const SamplingParams& p) {
  const int64_t vocab = static_cast<int64_t>(logits.size());
  weights_.resize(vocab);
  dense_ = !(p.top_k > 0 && p.top_k < vocab);
  if (!dense_) top_k_ids(logits, p.top_k, ids_);

  float max = -std::numeric_limits<float>::infinity();
  double total = 0.0;
  const double inv_temperature = 1.0 / p.temperature;
  if (dense_) {
    max = max_row(logits.data(), logits.size());
    exp_row(logits.data(), logits.size(), max, inv_temperature, weights_.data());
    total = sum(weights_);
  } else {
    for (TokenId id : ids_) max = std::max(max, logits[id]);
    for (TokenId id : ids_) total += weights_[id] = exp_nonpositive((double{logits[id]} - max) * inv_temperature);
  }
  // NaN or +inf logits make the total NaN; -inf everywhere leaves max -inf.
  if (!std::isfinite(max) || !std::isfinite(total)) {
    throw InternalError("logits are not finite (NaN or inf), or every token is masked");
  }

  if (p.top_p < 1.0) {
    // Sized once: resizing down and up again would clear it on every call.
    if (candidates_.size() < static_cast<size_t>(vocab)) candidates_.resize(vocab);
    size_t kept = 0;
    if (dense_) {
      // Tokens below `floor` weigh less than (1 - top_p) * total together
      // (half of it, for rounding), so the nucleus lies within the rest:
      // for a peaked distribution that leaves a small fraction of the vocab.
      const double floor = 0.5 * (1.0 - p.top_p) * total / static_cast<double>(vocab);
      for (int64_t i = 0; i < vocab; ++i) {  // branch-free compaction
        candidates_[kept] = {weights_[i], static_cast<TokenId>(i)};
        kept += weights_[i] >= floor;
      }
    } else {
      for (TokenId id : ids_) candidates_[kept++] = {weights_[id], id};
    }
    const std::span<NucleusCandidate> nucleus(candidates_.data(), kept);
    const size_t count = select_nucleus(nucleus, p.top_p * total);
    if (dense_) {
      // Cut everything ranked after the last kept token.
      const NucleusCandidate last = nucleus[count - 1];
      for (int64_t i = 0; i < vocab; ++i) {
        const double w = weights_[i];
        weights_[i] = w > last.weight || (w == last.weight && i <= last.id) ? w : 0.0;
      }
    } else {
      ids_.resize(count);
      for (size_t i = 0; i < count; ++i) ids_[i] = nucleus[i].id;
    }
  }
  // The most likely token has weight exp(0) = 1, so min-p's bar
  // min_p * p_max is min_p in weight units, whatever the normalization.
  if (const double bar = p.min_p; bar > 0.0) {
    if (dense_) {
      for (double& w : weights_) w = w < bar ? 0.0 : w;
    } else {
      std::erase_if(ids_, [&](TokenId id) { return weights_[id] < bar; });
    }
  }
  if (!dense_) std::sort(ids_.begin(), ids_.end());
}

template <typename F>
void Sampler::for_each_kept(F&& f) const {
  if (dense_) {
    for (size_t i = 0; i < weights_.size(); ++i) {
      if (weights_[i] > 0.0 && !f(static_cast<TokenId>(i), weights_[i])) return;
    }
  } else {
    for (TokenId id : ids_) {
      if (!f(id, weights_[id])) return;
    }
  }
}

TokenId Sampler::sample(std::span<const float> logits, const SamplingParams& params, const TokenHistory& history,
                        std::span<const TokenId> eos_ids, const SampleKey& key) {
  LLMBATCH_CHECK(!logits.empty(), "empty logits row");
  const std::span<const float> row = process(logits, params, history, eos_ids);
  if (is_greedy(params)) return argmax(row);
  build_weights(row, params);

  double total = 0.0;
  if (dense_) {
    total = sum(weights_);
  } else {
    for (TokenId id : ids_) total += weights_[id];
  }
  const double target = sample_uniform(key) * total;
  double cumulative = 0.0;
  TokenId chosen = -1, last_positive = -1;
  for_each_kept([&](TokenId id, double w) {
    cumulative += w;
    last_positive = w > 0.0 ? id : last_positive;
    if (cumulative >= target) chosen = id;
    return chosen < 0;
  });
  // The running sum adds in another order than `total`; when u is within
  // rounding of 1 it may end a hair short, and the draw is the last token.
  return chosen >= 0 ? chosen : last_positive;
}

std::vector<TokenProbability> Sampler::distribution(std::span<const float> logits, const SamplingParams& params,
                                                    const TokenHistory& history, std::span<const TokenId> eos_ids) {
  LLMBATCH_CHECK(!logits.empty(), "empty logits row");
  const std::span<const float> row = process(logits, params, history, eos_ids);
  if (is_greedy(params)) return {{argmax(row), 1.0}};
  build_weights(row, params);
  std::vector<TokenProbability> out;
  double total = 0.0;
  for_each_kept([&](TokenId id, double w) {
    if (w > 0.0) out.push_back({id, w});  // top-k may keep tokens of weight 0 (-inf logits)
    total += w;
    return true;
  });
  for (TokenProbability& t : out) t.probability /= total;
  return out;
}

}  // namespace llmbatch
