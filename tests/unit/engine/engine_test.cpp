// Generate mode: outputs are a pure function of the request (batch size,
// block size, preemption and what runs beside it do not matter), checked
// against a float64 reference, with n > 1 sharing prompt blocks, stop
// strings across token boundaries, and rejection of requests that cannot run.
#include "engine/engine.h"

#include <gtest/gtest.h>

#include <cmath>

#include "../backend/model_fixture.h"
#include "engine_fixture.h"
#include "reference/naive_forward.h"
#include "tokenizer/tokenizer.h"

namespace llmbatch {
namespace {

using testing::EngineSetup;
using testing::random_requests;
using testing::run_requests;

using EngineGenerate = testing::TinyModelSuite<3>;

SamplingParams greedy(int64_t max_tokens) {
  SamplingParams p;
  p.temperature = 0.0;
  p.max_tokens = max_tokens;
  p.ignore_eos = true;
  return p;
}

SamplingParams sampled(int64_t max_tokens) {
  SamplingParams p;
  p.temperature = 0.8;
  p.top_p = 0.9;
  p.seed = 1234;
  p.max_tokens = max_tokens;
  p.ignore_eos = true;
  return p;
}

void expect_same_outputs(const std::vector<ResultRow>& a, const std::vector<ResultRow>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].index, b[i].index);
    EXPECT_EQ(a[i].sample, b[i].sample);
    EXPECT_EQ(a[i].status, b[i].status);
    EXPECT_EQ(a[i].output_ids, b[i].output_ids) << "record " << a[i].index << " sample " << a[i].sample;
    EXPECT_EQ(a[i].finish_reason, b[i].finish_reason);
  }
}

TEST_F(EngineGenerate, GreedyTokensAreTheReferenceArgmax) {
  const auto requests = random_requests(4, vocab(), greedy(6), 40);
  const auto run = run_requests(model(), {}, requests);
  ASSERT_EQ(run.rows.size(), 4u);
  const reference::ReferenceModel reference(model());
  for (const auto& row : run.rows) {
    ASSERT_EQ(row.status, RecordStatus::kOk) << row.error;
    ASSERT_EQ(row.output_ids.size(), 6u);
    EXPECT_EQ(row.finish_reason, FinishReason::kLength);
    std::vector<int64_t> tokens(row.prompt_ids.begin(), row.prompt_ids.end());
    tokens.insert(tokens.end(), row.output_ids.begin(), row.output_ids.end());
    const auto lp = reference.logprobs(tokens);
    for (size_t k = 0; k < row.output_ids.size(); ++k) {
      const auto& dist = lp[row.prompt_ids.size() - 1 + k];
      const double best = *std::max_element(dist.begin(), dist.end());
      // The chosen token is the reference's argmax, up to f32 rounding of near ties.
      EXPECT_NEAR(dist[static_cast<size_t>(row.output_ids[k])], best, 1e-4) << "record " << row.index << " token " << k;
    }
  }
}

TEST_F(EngineGenerate, GreedyOutputsDoNotDependOnMaxNumSeqs) {
  const auto requests = random_requests(24, vocab(), greedy(10));
  EngineSetup setup;
  setup.max_num_seqs = 1;
  const auto one = run_requests(model(), setup, requests);
  setup.max_num_seqs = 64;
  const auto many = run_requests(model(), setup, requests);
  expect_same_outputs(one.rows, many.rows);
  EXPECT_GT(one.counters.steps, many.counters.steps * 4);  // really batched differently
}

TEST_F(EngineGenerate, GreedyOutputsDoNotDependOnBlockSize) {
  const auto requests = random_requests(12, vocab(), greedy(10));
  EngineSetup setup;
  setup.block_size = 8;
  setup.num_blocks = 512;
  const auto b8 = run_requests(model(), setup, requests);
  for (int64_t bs : {16, 32}) {
    setup.block_size = bs;
    setup.num_blocks = 4096 / bs;
    expect_same_outputs(b8.rows, run_requests(model(), setup, requests).rows);
  }
}

TEST_F(EngineGenerate, SampledOutputsDoNotDependOnBatchingOrPreemption) {
  const auto requests = random_requests(20, vocab(), sampled(16));
  EngineSetup setup;
  setup.max_num_seqs = 1;
  const auto one = run_requests(model(), setup, requests);
  for (int64_t seqs : {7, 64}) {
    setup.max_num_seqs = seqs;
    expect_same_outputs(one.rows, run_requests(model(), setup, requests).rows);
  }
  // A cache of 12 blocks of 8 cannot hold many 100-token sequences at once.
  setup.block_size = 8;
  setup.num_blocks = 14;
  setup.max_num_batched_tokens = 64;
  setup.admission_headroom_tokens = 0;  // admit into the last blocks: preemptions follow
  const auto tight = run_requests(model(), setup, requests);
  EXPECT_GT(tight.preemptions, 0);
  expect_same_outputs(one.rows, tight.rows);
  // Sampling is not degenerate: records differ and another seed changes them.
  EXPECT_NE(one.rows[3].output_ids, one.rows[4].output_ids);
  auto reseeded = requests;
  for (auto& r : reseeded) r.sampling.seed = 99;
  const auto other = run_requests(model(), {}, reseeded);
  int64_t differing = 0;
  for (size_t i = 0; i < other.rows.size(); ++i) differing += other.rows[i].output_ids != one.rows[i].output_ids;
  EXPECT_GT(differing, 15);
}

TEST_F(EngineGenerate, StaticPolicyGivesTheSameOutputs) {
  const auto requests = random_requests(10, vocab(), sampled(8));
  const auto continuous = run_requests(model(), {}, requests);
  EngineSetup setup;
  setup.policy = SchedulerPolicy::kStatic;
  setup.max_num_seqs = 4;
  expect_same_outputs(continuous.rows, run_requests(model(), setup, requests).rows);
}

TEST_F(EngineGenerate, NSamplesSharePromptBlocksAndAreReproducible) {
  EngineRequest r;
  r.key = 5;
  r.prompt = testing::random_tokens(64, vocab(), 3);  // exactly 4 blocks of 16
  r.sampling = sampled(4);
  r.sampling.temperature = 1.5;
  r.sampling.top_p = 1.0;
  r.sampling.n = 4;
  EngineSetup setup;
  setup.prefix_caching = false;
  const auto run = run_requests(model(), setup, {r});
  ASSERT_EQ(run.rows.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(run.rows[i].sample, i);
    EXPECT_EQ(run.rows[i].output_ids.size(), 4u);
  }
  EXPECT_NE(run.rows[0].output_ids, run.rows[1].output_ids);
  // The prompt's 4 blocks are shared; each sample adds one block of its own.
  EXPECT_EQ(run.max_blocks_used, 4 + 4);
  // Four separate requests would hold 4 x 5 blocks.
  std::vector<EngineRequest> separate(4, r);
  for (int i = 0; i < 4; ++i) {
    separate[i].key = static_cast<uint64_t>(10 + i);
    separate[i].sampling.n = 1;
  }
  EXPECT_EQ(run_requests(model(), setup, separate).max_blocks_used, 20);
  // The same samples whatever the batch size.
  setup.max_num_seqs = 1;
  expect_same_outputs(run.rows, run_requests(model(), setup, {r}).rows);
}

TEST_F(EngineGenerate, SharedPartialBlockIsCopiedOnWrite) {
  EngineRequest r;
  r.prompt = testing::random_tokens(60, vocab(), 4);  // 3 full blocks + 12 tokens
  r.sampling = sampled(3);  // the copies happen in the second step; the third still holds them
  r.sampling.n = 3;
  EngineSetup setup;
  setup.prefix_caching = false;
  const auto run = run_requests(model(), setup, {r});
  EXPECT_EQ(run.rows.size(), 3u);
  EXPECT_EQ(run.max_blocks_used, 4 + 2);  // two of the three write a private copy of the last block
}

TEST_F(EngineGenerate, RejectsRequestsThatCannotRunAndRunsTheRest) {
  auto requests = random_requests(3, vocab(), greedy(4));
  EngineRequest too_long;
  too_long.key = 3;
  too_long.prompt = testing::random_tokens(512, vocab(), 1);
  EngineRequest empty;
  empty.key = 4;
  EngineRequest bad_id;
  bad_id.key = 5;
  bad_id.prompt = {1, static_cast<TokenId>(vocab()), 2};
  EngineRequest bad_bias;
  bad_bias.key = 6;
  bad_bias.prompt = {1, 2};
  bad_bias.sampling.logit_bias = {{static_cast<TokenId>(vocab() + 3), 1.0f}};
  requests.insert(requests.end(), {too_long, empty, bad_id, bad_bias});
  const auto run = run_requests(model(), {}, requests);
  ASSERT_EQ(run.rows.size(), 7u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(run.rows[i].status, RecordStatus::kOk);
  for (int i = 3; i < 7; ++i) EXPECT_EQ(run.rows[i].status, RecordStatus::kError) << i;
  EXPECT_NE(run.rows[3].error.find("max_model_len 512"), std::string::npos) << run.rows[3].error;
  EXPECT_NE(run.rows[4].error.find("empty prompt"), std::string::npos);
  EXPECT_NE(run.rows[5].error.find("outside the vocabulary"), std::string::npos);
  EXPECT_NE(run.rows[6].error.find("logit_bias"), std::string::npos) << run.rows[6].error;
  EXPECT_EQ(run.counters.requests_rejected, 4);
}

TEST_F(EngineGenerate, RejectsAPromptLargerThanTheWholeCache) {
  EngineSetup setup;
  setup.num_blocks = 4;  // 64 tokens
  auto requests = random_requests(2, vocab(), greedy(4), 20);
  requests[1].prompt = testing::random_tokens(100, vocab(), 2);
  const auto run = run_requests(model(), setup, requests);
  EXPECT_EQ(run.rows[0].status, RecordStatus::kOk);
  EXPECT_EQ(run.rows[1].status, RecordStatus::kError);
  EXPECT_NE(run.rows[1].error.find("KV cache"), std::string::npos) << run.rows[1].error;
}

TEST_F(EngineGenerate, StopsAtMaxModelLenAndAtEos) {
  EngineSetup setup;
  setup.max_model_len = 40;
  auto requests = random_requests(1, vocab(), greedy(100), 20);
  requests[0].prompt = testing::random_tokens(36, vocab(), 8);
  const auto capped = run_requests(model(), setup, requests);
  EXPECT_EQ(capped.rows[0].output_ids.size(), 4u);
  EXPECT_EQ(capped.rows[0].finish_reason, FinishReason::kLength);

  // Declare the third greedy token an EOS token: generation ends there, with it.
  auto plain = run_requests(model(), {}, random_requests(1, vocab(), greedy(8), 20));
  const TokenId eos = plain.rows[0].output_ids[2];
  const auto first = std::find(plain.rows[0].output_ids.begin(), plain.rows[0].output_ids.end(), eos);
  EngineSetup with_eos;
  with_eos.eos_ids = {eos};
  auto requests_eos = random_requests(1, vocab(), greedy(8), 20);
  requests_eos[0].sampling.ignore_eos = false;
  const auto stopped = run_requests(model(), with_eos, requests_eos);
  EXPECT_EQ(stopped.rows[0].finish_reason, FinishReason::kEos);
  EXPECT_EQ(stopped.rows[0].output_ids,
            std::vector<TokenId>(plain.rows[0].output_ids.begin(), first + 1));
}

TEST_F(EngineGenerate, LogprobsOfGeneratedTokensAreTheRawDistribution) {
  auto requests = random_requests(3, vocab(), sampled(5), 30);
  for (auto& r : requests) r.sampling.logprobs = 3;
  const auto run = run_requests(model(), {}, requests);
  const reference::ReferenceModel reference(model());
  for (const auto& row : run.rows) {
    ASSERT_EQ(row.token_logprobs.size(), row.output_ids.size());
    ASSERT_EQ(row.top_logprobs.size(), row.output_ids.size());
    std::vector<int64_t> tokens(row.prompt_ids.begin(), row.prompt_ids.end());
    tokens.insert(tokens.end(), row.output_ids.begin(), row.output_ids.end());
    const auto lp = reference.logprobs(tokens);
    for (size_t k = 0; k < row.output_ids.size(); ++k) {
      const auto& dist = lp[row.prompt_ids.size() - 1 + k];
      EXPECT_NEAR(row.token_logprobs[k], dist[static_cast<size_t>(row.output_ids[k])], 2e-3);
      ASSERT_EQ(row.top_logprobs[k].size(), 3u);
      EXPECT_NEAR(row.top_logprobs[k][0].logprob, *std::max_element(dist.begin(), dist.end()), 2e-3);
      EXPECT_GE(row.top_logprobs[k][0].logprob, row.top_logprobs[k][1].logprob);
    }
  }
}

// Stop strings need text: a model over GPT-2's vocabulary with its tokenizer.
TEST(EngineStopStrings, StopStringSpanningTokensCutsTheText) {
  const auto tok = tokenizer::Tokenizer::load(std::string(LLMBATCH_FIXTURES_DIR) + "/tokenizers/gpt2/tokenizer.json");
  auto options = testing::tiny_options(DType::F32);
  options.config.vocab_size = static_cast<int64_t>(tok.vocab_size());
  const testing::RandomModelDir dir(options);
  EngineSetup setup;
  setup.tokenizer = &tok;
  auto requests = random_requests(1, 1000, greedy(24), 10);
  const auto plain = run_requests(dir.model(), setup, requests);
  const ResultRow& full = plain.rows[0];
  ASSERT_EQ(full.output_ids.size(), 24u);
  EXPECT_EQ(full.text, tok.decode(std::vector<uint32_t>(full.output_ids.begin(), full.output_ids.end()), true));

  // A stop string made of the end of one token's text and the start of the next.
  std::string first_part, boundary_text;
  size_t boundary = 0;
  for (size_t k = 4; k < full.output_ids.size() - 1; ++k) {
    const std::string before = tok.decode(std::vector<uint32_t>(full.output_ids.begin(), full.output_ids.begin() + k), true);
    const std::string after = tok.decode(std::vector<uint32_t>(full.output_ids.begin(), full.output_ids.begin() + k + 1), true);
    if (before.size() >= 2 && after.size() >= before.size() + 2 && full.text.starts_with(after)) {
      boundary = before.size();
      break;
    }
  }
  ASSERT_GT(boundary, 0u) << "no usable token boundary in: " << full.text;
  const std::string stop = full.text.substr(boundary - 2, 4);
  const size_t expected_cut = full.text.find(stop);
  requests[0].sampling.stop = {stop};
  const auto stopped = run_requests(dir.model(), setup, requests);
  EXPECT_EQ(stopped.rows[0].finish_reason, FinishReason::kStop);
  EXPECT_EQ(stopped.rows[0].text, full.text.substr(0, expected_cut));
  EXPECT_LT(stopped.rows[0].output_ids.size(), full.output_ids.size());
  requests[0].sampling.include_stop_str = true;
  EXPECT_EQ(run_requests(dir.model(), setup, requests).rows[0].text, full.text.substr(0, expected_cut + stop.size()));
}

}  // namespace
}  // namespace llmbatch
