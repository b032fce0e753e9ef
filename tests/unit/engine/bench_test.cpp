#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "../backend/model_fixture.h"
#include "core/error.h"
#include "engine/bench_runner.h"
#include "engine/bench_workload.h"

namespace llmbatch {
namespace {

TEST(BenchWorkload, FixedLengthsAreExactAndDeterministic) {
  const BenchWorkload w{.input_len = 7, .output_len = 5, .num_prompts = 10, .seed = 3};
  const auto a = bench_requests(w, 100);
  ASSERT_EQ(a.size(), 10u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].key, i);
    EXPECT_EQ(a[i].prompt.size(), 7u);
    EXPECT_EQ(a[i].sampling.max_tokens, 5);
    EXPECT_TRUE(a[i].sampling.ignore_eos);
    for (TokenId t : a[i].prompt) EXPECT_TRUE(t >= 0 && t < 100);
  }
  EXPECT_NE(a[0].prompt, a[1].prompt);
  const auto b = bench_requests(w, 100);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].prompt, b[i].prompt);
  auto other = w;
  other.seed = 4;
  EXPECT_NE(bench_requests(other, 100)[0].prompt, a[0].prompt);
}

TEST(BenchWorkload, ShareGptLengthsHaveThePaperMeans) {
  const BenchWorkload w{.distribution = LengthDistribution::kShareGpt, .num_prompts = 20000, .seed = 1};
  const auto requests = bench_requests(w, 50);
  double in = 0, out = 0;
  for (const auto& r : requests) {
    EXPECT_TRUE(r.prompt.size() >= 4 && r.prompt.size() <= 1024);
    EXPECT_TRUE(r.sampling.max_tokens >= 4 && r.sampling.max_tokens <= 1024);
    in += static_cast<double>(r.prompt.size());
    out += static_cast<double>(r.sampling.max_tokens);
  }
  EXPECT_NEAR(in / 20000.0, 161.0, 6.0);
  EXPECT_NEAR(out / 20000.0, 338.0, 12.0);
}

// Every prompt starts with the same prefix_len tokens, then its own; n > 1
// samples at temperature 1 with the request's index as the seed.
TEST(BenchWorkload, SharedPrefixAndSamplesPerPrompt) {
  const BenchWorkload w{.input_len = 6, .output_len = 3, .num_prompts = 5, .seed = 2, .prefix_len = 40, .n = 4};
  const auto shared = bench_requests(w, 1000);
  auto plain_workload = w;
  plain_workload.prefix_len = 0;
  plain_workload.n = 1;
  const auto plain = bench_requests(plain_workload, 1000);
  for (size_t i = 0; i < shared.size(); ++i) {
    ASSERT_EQ(shared[i].prompt.size(), 46u);
    EXPECT_TRUE(std::equal(shared[i].prompt.begin(), shared[i].prompt.begin() + 40, shared[0].prompt.begin()));
    EXPECT_TRUE(std::equal(shared[i].prompt.begin() + 40, shared[i].prompt.end(), plain[i].prompt.begin()));
    EXPECT_EQ(shared[i].sampling.n, 4);
    EXPECT_EQ(shared[i].sampling.temperature, 1.0);
    EXPECT_EQ(shared[i].sampling.seed, i);
    EXPECT_EQ(plain[i].sampling.n, 1);
    EXPECT_EQ(plain[i].sampling.temperature, 0.0);
  }
  EXPECT_NE(std::set<TokenId>(shared[0].prompt.begin(), shared[0].prompt.begin() + 40).size(), 1u);
}

TEST(BenchWorkload, RejectsBadSizesAndNames) {
  EXPECT_THROW(bench_requests({.num_prompts = 0}, 10), ConfigError);
  EXPECT_THROW(bench_requests({.input_len = 0}, 10), ConfigError);
  EXPECT_THROW(bench_requests({.prefix_len = -1}, 10), ConfigError);
  EXPECT_THROW(bench_requests({.n = 0}, 10), ConfigError);
  EXPECT_THROW(parse_length_distribution("uniform"), ConfigError);
  EXPECT_EQ(parse_length_distribution("sharegpt"), LengthDistribution::kShareGpt);
}

TEST(BenchRunner, PercentileIsTheNearestRank) {
  EXPECT_EQ(percentile({}, 0.5), 0.0);
  EXPECT_EQ(percentile({5, 1, 3, 2, 4}, 0.5), 3.0);
  EXPECT_EQ(percentile({5, 1, 3, 2, 4}, 0.99), 5.0);
  EXPECT_EQ(percentile({5, 1, 3, 2, 4}, 0.0), 1.0);
}

TEST(BenchRunner, CountsTheWorkloadAndComparesPolicies) {
  const testing::RandomModelDir dir(testing::tiny_options(DType::F32));
  const auto& model = dir.model();
  const auto requests = bench_requests({.input_len = 20, .output_len = 12, .num_prompts = 12}, model.config.vocab_size);
  BackendOptions backend_options;
  backend_options.num_blocks = 64;
  backend_options.max_model_len = 32;
  backend_options.threads = 1;
  const auto backend = make_cpu_backend(model.config, MappedWeightSet(model.tensors), backend_options);
  EngineOptions options;
  options.max_model_len = 32;
  options.vocab_size = model.config.vocab_size;
  const KvCacheConfig kv{.block_size = 16, .num_blocks = 64};
  const BenchReport continuous = run_bench(*backend, kv, options, requests);
  EXPECT_EQ(continuous.policy, "continuous");
  EXPECT_EQ(continuous.requests, 12);
  EXPECT_EQ(continuous.errors, 0);
  EXPECT_EQ(continuous.prompt_tokens, 12 * 20);
  EXPECT_EQ(continuous.generated_tokens, 12 * 12);
  EXPECT_EQ(continuous.max_batch_sequences, 12);
  EXPECT_EQ(continuous.steps, 12);  // one prefill step, then 11 decode steps
  EXPECT_GT(continuous.kv_waste, 0.0);
  EXPECT_LT(continuous.kv_waste, 0.5);
  EXPECT_LE(continuous.step_p50_ms, continuous.step_p99_ms);

  // A shared prefix and 3 samples per prompt: the prompts are computed
  // once, every sample's tokens are generated and counted.
  const auto shared = bench_requests({.input_len = 4, .output_len = 6, .num_prompts = 4, .prefix_len = 16, .n = 3},
                                     model.config.vocab_size);
  const BenchReport sampled = run_bench(*backend, kv, options, shared);
  EXPECT_EQ(sampled.errors, 0);
  EXPECT_EQ(sampled.prompt_tokens, 4 * 20);
  EXPECT_EQ(sampled.generated_tokens, 4 * 3 * 6);

  options.scheduler.policy = SchedulerPolicy::kStatic;
  options.scheduler.max_num_seqs = 4;
  const BenchReport fixed = run_bench(*backend, kv, options, requests);
  EXPECT_EQ(fixed.policy, "static");
  EXPECT_EQ(fixed.generated_tokens, 12 * 12);
  EXPECT_EQ(fixed.steps, 3 * 12);  // three batches of four, one after the other
  // The static policy reserves max_model_len (32 slots) per sequence.
  EXPECT_GT(fixed.kv_waste, continuous.kv_waste);
}

}  // namespace
}  // namespace llmbatch
