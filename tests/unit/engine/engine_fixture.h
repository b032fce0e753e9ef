// Test helpers: run a list of requests through a fresh Engine over a model
// directory, with the knobs the invariance tests vary.
#pragma once

#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "../backend/model_fixture.h"
#include "engine/engine.h"
#include "model/model_dir.h"

namespace llmbatch::testing {

struct EngineSetup {
  int64_t block_size = 16;
  int64_t num_blocks = 256;
  int64_t max_num_seqs = 64;
  int64_t max_num_batched_tokens = 512;
  int64_t admission_headroom_tokens = kAdmissionHeadroomTokens;
  int64_t max_model_len = 512;
  bool prefix_caching = true;
  SchedulerPolicy policy = SchedulerPolicy::kContinuous;
  DType kv_dtype = DType::F32;
  std::vector<TokenId> eos_ids;
  const tokenizer::Tokenizer* tokenizer = nullptr;
};

struct EngineRun {
  std::vector<ResultRow> rows;  // sorted by (index, sample)
  EngineCounters counters;
  int64_t preemptions = 0;
  int64_t max_blocks_used = 0;
};

// A test suite over one tiny random model (f32 weights, init_std 0.1),
// written once for the whole suite.
template <uint64_t Seed>
class TinyModelSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { model_ = new RandomModelDir(tiny_options(DType::F32, Seed)); }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }
  static const ModelDir& model() { return model_->model(); }
  static int64_t vocab() { return model().config.vocab_size; }

 private:
  static inline RandomModelDir* model_ = nullptr;
};

EngineRun run_requests(const ModelDir& model, const EngineSetup& setup, const std::vector<EngineRequest>& requests);

// `count` requests with prompts of 1..max_prompt random tokens (keys 0..count-1).
std::vector<EngineRequest> random_requests(int64_t count, int64_t vocab, const SamplingParams& sampling,
                                           int64_t max_prompt = 80, uint32_t seed = 11);

}  // namespace llmbatch::testing
