#include "sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/philox.h"

namespace llmbatch {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// ---- the naive reference: float64, full sort, written from the definitions ----

// Probability of every token id after temperature, top-k, top-p, min-p.
std::vector<double> reference_distribution(const std::vector<double>& logits, const SamplingParams& p) {
  const int64_t vocab = static_cast<int64_t>(logits.size());
  std::vector<TokenId> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  // Most likely first; stable, so equal logits keep ascending ids.
  std::stable_sort(order.begin(), order.end(), [&](TokenId a, TokenId b) { return logits[a] > logits[b]; });
  std::vector<double> probs(vocab, 0.0);
  if (p.temperature == 0) {
    probs[order[0]] = 1.0;
    return probs;
  }
  if (p.top_k > 0 && p.top_k < vocab) order.resize(p.top_k);
  const auto normalize = [&] {
    double sum = 0;
    for (double v : probs) sum += v;
    for (double& v : probs) v /= sum;
  };
  const double max = logits[order[0]] / p.temperature;
  for (TokenId id : order) probs[id] = std::exp(logits[id] / p.temperature - max);
  normalize();
  if (p.top_p < 1) {
    double cumulative = 0;
    size_t kept = 0;
    while (kept < order.size() && cumulative < p.top_p) cumulative += probs[order[kept++]];
    for (size_t i = kept; i < order.size(); ++i) probs[order[i]] = 0;
    normalize();
  }
  if (p.min_p > 0) {
    const double bar = p.min_p * probs[order[0]];
    for (double& v : probs) v = v < bar ? 0 : v;
    normalize();
  }
  return probs;
}

// Logit bias, min_tokens mask, repetition, presence and frequency penalties, in double.
std::vector<double> reference_process(const std::vector<float>& raw, const SamplingParams& p,
                                      const std::vector<TokenId>& prompt, const std::vector<TokenId>& output,
                                      const std::vector<TokenId>& eos) {
  std::vector<double> x(raw.begin(), raw.end());
  for (const auto& [id, bias] : p.logit_bias) x[id] += bias;
  if (static_cast<int64_t>(output.size()) < p.min_tokens) {
    for (TokenId id : p.stop_token_ids) x[id] = -kInf;
    if (!p.ignore_eos) {
      for (TokenId id : eos) x[id] = -kInf;
    }
  }
  std::set<TokenId> seen(prompt.begin(), prompt.end());
  seen.insert(output.begin(), output.end());
  for (TokenId id : seen) x[id] = x[id] > 0 ? x[id] / p.repetition_penalty : x[id] * p.repetition_penalty;
  std::map<TokenId, int> counts;
  for (TokenId id : output) ++counts[id];
  for (const auto& [id, c] : counts) x[id] -= p.presence_penalty + p.frequency_penalty * c;
  return x;
}

std::vector<double> dense(const std::vector<TokenProbability>& sparse, size_t vocab) {
  std::vector<double> out(vocab, 0.0);
  double previous = -1;
  for (const TokenProbability& t : sparse) {
    EXPECT_GT(t.token, previous) << "ids must ascend";
    EXPECT_GT(t.probability, 0.0);
    previous = t.token;
    out[t.token] = t.probability;
  }
  return out;
}

std::vector<float> random_logits(size_t vocab, double scale, uint32_t seed, bool quantized = false) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, scale);
  std::vector<float> logits(vocab);
  for (float& v : logits) v = quantized ? static_cast<float>(std::round(normal(rng))) : static_cast<float>(normal(rng));
  return logits;
}

void expect_distribution_near(const std::vector<double>& got, const std::vector<double>& want, double tolerance,
                              const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  int kept_mismatches = 0;
  double max_error = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    kept_mismatches += (got[i] > 0) != (want[i] > 0);
    max_error = std::max(max_error, std::abs(got[i] - want[i]));
  }
  EXPECT_EQ(kept_mismatches, 0) << what;
  EXPECT_LT(max_error, tolerance) << what;
}

// Wilson-Hilferty: the chi-square quantile with `df` degrees of freedom at normal quantile z.
double chi_square_critical(int df, double z) {
  const double a = 2.0 / (9.0 * df);
  return df * std::pow(1 - a + z * std::sqrt(a), 3);
}

double chi_square(const std::vector<int>& counts, const std::vector<double>& probs, int draws, int* df) {
  double chi2 = 0;
  *df = -1;
  for (size_t i = 0; i < probs.size(); ++i) {
    if (probs[i] == 0) {
      EXPECT_EQ(counts[i], 0) << "drew token " << i << " of probability 0";
      continue;
    }
    const double expected = probs[i] * draws;
    EXPECT_GE(expected, 50) << "the test needs larger expected counts";
    chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
    ++*df;
  }
  return chi2;
}

// ---- truncation against the reference ----

TEST(SamplerTest, TruncationMatchesTheNaiveReference) {
  struct Logits {
    std::vector<float> values;
    const char* name;
  };
  std::vector<Logits> cases = {{random_logits(97, 2.5, 1), "normal 97"},
                               {random_logits(97, 1.5, 2, true), "ties 97"},
                               {random_logits(5003, 3.0, 3), "normal 5003"}};
  for (int i = 0; i < 5003; i += 101) cases[2].values[i] = -kInf;  // masked tokens
  Sampler sampler;
  for (const Logits& c : cases) {
    const int64_t vocab = static_cast<int64_t>(c.values.size());
    const std::vector<double> as_double(c.values.begin(), c.values.end());
    for (double temperature : {0.6, 1.0, 1.7}) {
      for (int64_t top_k : {int64_t{0}, int64_t{-1}, int64_t{1}, int64_t{5}, int64_t{37}, vocab - 1, vocab, vocab + 10}) {
        for (double top_p : {1.0, 0.93, 0.5, 0.05}) {
          for (double min_p : {0.0, 0.02, 0.3}) {
            SamplingParams p;
            p.temperature = temperature;
            p.top_k = top_k;
            p.top_p = top_p;
            p.min_p = min_p;
            const std::string what = std::string(c.name) + " T=" + std::to_string(temperature) + " k=" +
                                     std::to_string(top_k) + " p=" + std::to_string(top_p) + " min_p=" +
                                     std::to_string(min_p);
            expect_distribution_near(dense(sampler.distribution(c.values, p, {}, {}), vocab),
                                     reference_distribution(as_double, p), 1e-12, what);
          }
        }
      }
    }
  }
}

TEST(SamplerTest, TiesAreBrokenTowardsTheLowerId) {
  Sampler sampler;
  const std::vector<float> logits = {0.0f, 1.0f, 1.0f, 1.0f, 1.0f};
  SamplingParams p;
  p.top_k = 3;
  std::vector<double> got = dense(sampler.distribution(logits, p, {}, {}), 5);
  EXPECT_EQ(got, (std::vector<double>{0, 1.0 / 3, 1.0 / 3, 1.0 / 3, 0}));
  p.top_k = 0;
  p.top_p = 0.5;  // 4 x 0.25 (almost): the first two reach it
  const std::vector<float> equal = {2.0f, 2.0f, 2.0f, 2.0f};
  got = dense(sampler.distribution(equal, p, {}, {}), 4);
  EXPECT_EQ(got, (std::vector<double>{0.5, 0.5, 0, 0}));
}

TEST(SamplerTest, GreedyTakesTheFirstMaximumAndIgnoresTruncation) {
  Sampler sampler;
  const std::vector<float> logits = {1.0f, 3.0f, -kInf, 3.0f, 2.0f};
  SamplingParams p;
  p.temperature = 0;
  EXPECT_EQ(sampler.sample(logits, p, {}, {}, {}), 1);
  p.top_k = 1;
  p.top_p = 0.01;
  p.min_p = 0.9;
  for (uint32_t step = 0; step < 20; ++step) EXPECT_EQ(sampler.sample(logits, p, {}, {}, {.step = step}), 1);
  const auto d = sampler.distribution(logits, p, {}, {});
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].token, 1);
  EXPECT_EQ(d[0].probability, 1.0);
  // Temperatures too small to divide by are greedy too (vLLM's rule).
  p = SamplingParams();
  for (double tiny : {1e-6, 1e-300}) {
    p.temperature = tiny;
    EXPECT_EQ(sampler.sample(logits, p, {}, {}, {.step = 3}), 1);
  }
  p.temperature = 0;
  // A big vocabulary with the maximum last.
  std::vector<float> big = random_logits(152064, 2.0, 4);
  big.back() = 100.0f;
  EXPECT_EQ(sampler.sample(big, p, {}, {}, {}), 152063);
}

// ---- the draw ----

TEST(SamplerTest, UniformIsInHalfOpenUnitIntervalAndUniform) {
  constexpr int kBins = 64, kDraws = 64000;
  std::vector<int> counts(kBins, 0);
  for (uint32_t step = 0; step < kDraws; ++step) {
    const double u = sample_uniform({.seed = 11, .record = 5, .step = step});
    ASSERT_GT(u, 0.0);
    ASSERT_LE(u, 1.0);
    ++counts[std::min(kBins - 1, static_cast<int>(u * kBins))];
  }
  int df = 0;
  const double chi2 = chi_square(counts, std::vector<double>(kBins, 1.0 / kBins), kDraws, &df);
  EXPECT_LT(chi2, chi_square_critical(df, 3.72)) << "p < 1e-4";
}

// The layout sampler.h documents, which other implementations (a CUDA kernel) must reproduce.
TEST(SamplerTest, UniformFollowsTheDocumentedPhiloxLayout) {
  const SampleKey key{.seed = 0x0123456789abcdefull, .record = 0xfedcba9876543210ull, .sample = 3, .step = 1000};
  const PhiloxCounter r = philox4x32({1000, 3, 0x76543210u, 0xfedcba98u}, {0x89abcdefu, 0x01234567u});
  const uint64_t bits53 = ((uint64_t{r[0]} << 32) | r[1]) >> 11;
  EXPECT_EQ(sample_uniform(key), std::ldexp(static_cast<double>(bits53 + 1), -53));
  // More than float resolution: some draws are not multiples of 2^-32.
  int fine = 0;
  for (uint32_t step = 0; step < 100; ++step) {
    const double scaled = sample_uniform({.step = step}) * 0x1p32;
    fine += scaled != std::floor(scaled);
  }
  EXPECT_GT(fine, 90);
}

TEST(SamplerTest, EveryKeyFieldSelectsItsOwnStream) {
  const SampleKey base{.seed = 1234, .record = 77, .sample = 2, .step = 0};
  std::vector<SampleKey> others;
  for (SampleKey k : {base, base, base, base, base}) others.push_back(k);
  others[0].seed += 1;
  others[1].record += 1;
  others[2].sample += 1;
  others[3].seed += uint64_t{1} << 40;  // the high words count too
  others[4].record += uint64_t{1} << 40;
  constexpr int kSteps = 4000;
  for (SampleKey other : others) {
    SampleKey a = base;
    int equal = 0;
    double sum_ab = 0, sum_a = 0, sum_b = 0, sum_aa = 0, sum_bb = 0;
    for (uint32_t step = 0; step < kSteps; ++step) {
      a.step = other.step = step;
      const double x = sample_uniform(a), y = sample_uniform(other);
      equal += x == y;
      sum_a += x, sum_b += y, sum_ab += x * y, sum_aa += x * x, sum_bb += y * y;
    }
    EXPECT_EQ(equal, 0);
    const double cov = sum_ab / kSteps - sum_a / kSteps * sum_b / kSteps;
    const double var_a = sum_aa / kSteps - std::pow(sum_a / kSteps, 2);
    const double var_b = sum_bb / kSteps - std::pow(sum_b / kSteps, 2);
    EXPECT_LT(std::abs(cov / std::sqrt(var_a * var_b)), 0.06);  // ~4 sigma for 4000 pairs
  }
  // And consecutive steps of one stream differ.
  EXPECT_NE(sample_uniform(base), sample_uniform({.seed = 1234, .record = 77, .sample = 2, .step = 1}));
}

TEST(SamplerTest, DrawIsTheInverseCdfInIdOrder) {
  Sampler sampler;
  std::vector<float> logits = random_logits(5003, 2.0, 5);
  const std::vector<double> as_double(logits.begin(), logits.end());
  for (auto [top_k, top_p] : {std::pair{0, 1.0}, {0, 0.8}, {300, 0.95}}) {
    SamplingParams p;
    p.temperature = 0.8;
    p.top_k = top_k;
    p.top_p = top_p;
    const std::vector<double> probs = reference_distribution(as_double, p);
    for (uint32_t step = 0; step < 300; ++step) {
      const SampleKey key{.seed = 9, .record = 1, .step = step};
      const double u = sample_uniform(key);
      double cumulative = 0;
      TokenId expected = 0;
      while (cumulative + probs[expected] < u) cumulative += probs[expected++];
      EXPECT_EQ(sampler.sample(logits, p, {}, {}, key), expected) << "u=" << u;
    }
  }
}

TEST(SamplerTest, KeyedDrawsFollowTheDistribution) {
  const std::vector<float> logits = {0.3f, 1.2f, -0.4f, 0.9f, 2.0f, -1.0f, 0.0f, 1.5f, -0.2f, 0.7f, -1.5f, 1.0f};
  const std::vector<double> as_double(logits.begin(), logits.end());
  struct Case {
    double temperature;
    int64_t top_k;
    double top_p;
    double min_p;
  };
  constexpr int kDraws = 20000;
  Sampler sampler;
  for (const Case& c : {Case{1.0, 0, 1.0, 0.0}, Case{0.9, 10, 0.97, 0.0}, Case{1.3, 0, 0.9, 0.05}}) {
    SamplingParams p;
    p.temperature = c.temperature;
    p.top_k = c.top_k;
    p.top_p = c.top_p;
    p.min_p = c.min_p;
    const std::vector<double> probs = reference_distribution(as_double, p);
    // Walk each key field in turn: every one must give a well-spread stream.
    for (int field = 0; field < 4; ++field) {
      std::vector<int> counts(logits.size(), 0);
      for (uint32_t i = 0; i < kDraws; ++i) {
        SampleKey key{.seed = 42, .record = 3, .sample = 1, .step = 5};
        if (field == 0) key.step = i;
        if (field == 1) key.record = i;
        if (field == 2) key.sample = i;
        if (field == 3) key.seed = i;
        ++counts[sampler.sample(logits, p, {}, {}, key)];
      }
      int df = 0;
      const double chi2 = chi_square(counts, probs, kDraws, &df);
      EXPECT_LT(chi2, chi_square_critical(df, 3.72)) << "field " << field << " T=" << c.temperature;
    }
  }
}

TEST(SamplerTest, SameKeySameTokenWhateverRanBefore) {
  const std::vector<float> logits = random_logits(1000, 1.0, 6);
  const std::vector<float> other = random_logits(333, 1.0, 7);
  SamplingParams p;
  p.top_k = 50;
  p.top_p = 0.9;
  SamplingParams penalized;
  penalized.repetition_penalty = 1.3;
  penalized.frequency_penalty = 0.5;
  const std::vector<TokenId> history = {1, 2, 3, 2};
  Sampler first, second;
  std::vector<TokenId> tokens;
  for (uint32_t step = 0; step < 100; ++step) tokens.push_back(first.sample(logits, p, {}, {}, {.seed = 5, .step = step}));
  for (uint32_t step = 0; step < 100; ++step) {
    // Other rows with another vocabulary and other settings in between.
    second.sample(other, penalized, {.prompt = history, .output = history}, {}, {.step = step});
    EXPECT_EQ(second.sample(logits, p, {}, {}, {.seed = 5, .step = step}), tokens[step]);
  }
  EXPECT_GT(std::set<TokenId>(tokens.begin(), tokens.end()).size(), 10u) << "the draws should vary with the step";
}

// ---- logits processors in the sampler's order ----

TEST(SamplerTest, ProcessorsRunInTheDocumentedOrder) {
  // token 0: (-1 + 2) = 1 -> / 2 = 0.5 -> - 0.5 - 0.25 * 1 = -0.25 (bias, repetition, presence/frequency);
  // token 1: 0.3 / 2 = 0.15 -> - 0.5 - 0.25 * 2 = -0.85; token 2 is untouched.
  const std::vector<float> logits = {-1.0f, 0.3f, 0.1f};
  SamplingParams p;
  p.logit_bias = {{0, 2.0f}};
  p.repetition_penalty = 2.0;
  p.presence_penalty = 0.5;
  p.frequency_penalty = 0.25;
  const std::vector<TokenId> prompt = {0, 2}, output = {0, 1, 1};
  Sampler sampler;
  const std::vector<double> got = dense(sampler.distribution(logits, p, {prompt, output}, {}), 3);
  const std::vector<double> expected_logits = {-0.25, -0.85, 0.1 / 2};
  double z = 0;
  for (double v : expected_logits) z += std::exp(v);
  for (size_t i = 0; i < 3; ++i) EXPECT_NEAR(got[i], std::exp(expected_logits[i]) / z, 1e-7) << i;
}

TEST(SamplerTest, PenaltiesMatchTheReferenceOnARandomRow) {
  const std::vector<float> logits = random_logits(4099, 2.0, 8);
  std::mt19937 rng(9);
  std::uniform_int_distribution<TokenId> any(0, 4098);
  std::vector<TokenId> prompt(300), output(120);
  for (TokenId& t : prompt) t = any(rng);
  for (TokenId& t : output) t = any(rng) % 200;  // repeats, so counts > 1
  const std::vector<TokenId> eos = {7, 4000};
  SamplingParams p;
  p.temperature = 0.9;
  p.repetition_penalty = 1.25;
  p.presence_penalty = 0.4;
  p.frequency_penalty = 0.3;
  p.logit_bias = {{5, 3.0f}, {4000, -2.0f}, {17, 1.5f}};
  p.stop_token_ids = {11};
  p.min_tokens = 121;  // masking on
  Sampler sampler;
  for (bool ignore_eos : {false, true}) {
    p.ignore_eos = ignore_eos;
    const std::vector<double> want = reference_distribution(reference_process(logits, p, prompt, output, eos), p);
    // Processed logits are rounded to f32 once per step in the sampler: 1e-6 covers it.
    expect_distribution_near(dense(sampler.distribution(logits, p, {prompt, output}, eos), logits.size()), want, 1e-6,
                             "penalties");
  }
}

TEST(SamplerTest, MinTokensMasksEosAndStopIdsUntilReached) {
  std::vector<float> logits(8, 0.0f);
  logits[3] = 5.0f;  // EOS, the most likely token
  logits[5] = 4.0f;  // a stop token id
  const std::vector<TokenId> eos = {3};
  SamplingParams p;
  p.min_tokens = 2;
  p.stop_token_ids = {5};
  Sampler sampler;
  const std::vector<TokenId> output = {1, 1};
  for (size_t generated = 0; generated <= 2; ++generated) {
    const TokenHistory history{.output = std::span(output).first(generated)};
    const std::vector<double> probs = dense(sampler.distribution(logits, p, history, eos), 8);
    EXPECT_EQ(probs[3] == 0, generated < 2) << generated;
    EXPECT_EQ(probs[5] == 0, generated < 2) << generated;
  }
  p.temperature = 0;
  EXPECT_EQ(sampler.sample(logits, p, {}, eos, {}), 0);  // EOS and stop id masked: first of the zeros
  p.ignore_eos = true;  // EOS is an ordinary token then, the stop id is still masked
  EXPECT_EQ(sampler.sample(logits, p, {}, eos, {}), 3);
}

TEST(SamplerTest, LogitBiasShiftsTheDistribution) {
  const std::vector<float> logits = {1.0f, 0.0f, 0.5f};
  SamplingParams p;
  p.logit_bias = {{1, 2.0f}};
  Sampler sampler;
  const std::vector<double> probs = dense(sampler.distribution(logits, p, {}, {}), 3);
  EXPECT_NEAR(probs[1] / probs[0], std::exp(1.0), 1e-6);
  p.temperature = 0;
  EXPECT_EQ(sampler.sample(logits, p, {}, {}, {}), 1);
  p.logit_bias = {{0, -100.0f}};
  EXPECT_EQ(sampler.sample(logits, p, {}, {}, {}), 2);
}

TEST(SamplerTest, BadInputsAreClearErrors) {
  Sampler sampler;
  const std::vector<float> logits = {0.0f, 1.0f, 2.0f};
  SamplingParams p;
  p.logit_bias = {{3, 1.0f}};
  EXPECT_THROW(sampler.sample(logits, p, {}, {}, {}), ConfigError);
  p.logit_bias.clear();
  p.repetition_penalty = 1.2;
  const std::vector<TokenId> bad = {9};
  EXPECT_THROW(sampler.sample(logits, p, {.prompt = bad}, {}, {}), InternalError);
  const std::vector<float> nan = {0.0f, std::nanf(""), 1.0f};
  EXPECT_THROW(sampler.sample(nan, SamplingParams(), {}, {}, {}), InternalError);
  EXPECT_THROW(sampler.sample(std::span<const float>(), SamplingParams(), {}, {}, {}), InternalError);
}

}  // namespace
}  // namespace llmbatch
