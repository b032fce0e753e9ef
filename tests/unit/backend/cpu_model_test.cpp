// The CPU model's batch invariance, bit for bit: a sequence's logits do not
// depend on what else is in the batch, on how its prefill is chunked, on the
// KV block size, or on whether its prefix came from the prefix cache.
// (Accuracy against an independent float64 forward: tests/reference.)
#include "backend/cpu/cpu_model.h"

#include <cmath>

#include <gtest/gtest.h>

#include "core/error.h"
#include "model_fixture.h"

namespace llmbatch {
namespace {

using testing::Engine;
using testing::RandomModelDir;
using testing::random_tokens;
using testing::run_sequence;
using testing::run_step;

BackendOptions options(int64_t block_size = 16, DType kv = DType::BF16) {
  BackendOptions o;
  o.block_size = block_size;
  o.num_blocks = 4096 / block_size;
  o.kv_dtype = kv;
  o.max_model_len = 1024;
  return o;
}

class CpuModelTest : public ::testing::TestWithParam<DType> {
 protected:
  void SetUp() override { model_ = std::make_unique<RandomModelDir>(testing::tiny_options(GetParam())); }
  const ModelDir& model() { return model_->model(); }
  std::unique_ptr<RandomModelDir> model_;
};

TEST(KvLayoutOfTest, TakesTheModelsKvShape) {
  ModelConfig c;
  c.num_hidden_layers = 5;
  c.num_attention_heads = 8;
  c.num_key_value_heads = 2;
  c.head_dim = 48;
  const KvLayout layout = kv_layout_of(c, DType::F32);
  EXPECT_EQ(layout.num_layers, 5);
  EXPECT_EQ(layout.num_kv_heads, 2);
  EXPECT_EQ(layout.head_dim, 48);
  EXPECT_EQ(layout.dtype, DType::F32);
  EXPECT_EQ(kv_bytes_per_token(layout), 2u * 5 * 2 * 48 * 4);  // K and V of every layer, f32
  EXPECT_EQ(kv_layout_of(c, DType::BF16).dtype, DType::BF16);
}

TEST_P(CpuModelTest, LogitsAreFiniteAndNotDegenerate) {
  Engine engine(model(), options());
  const auto logits = run_sequence(engine, 1, random_tokens(40, 512, 1));
  ASSERT_EQ(logits.size(), 40u);
  for (const auto& row : logits) {
    ASSERT_EQ(row.size(), 512u);
    float lo = row[0], hi = row[0];
    for (float v : row) {
      ASSERT_TRUE(std::isfinite(v));
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    EXPECT_GT(hi - lo, 0.5f);   // not uniform
    EXPECT_LT(hi - lo, 100.0f); // not one-hot
  }
}

TEST_P(CpuModelTest, ChunkedPrefillIsBitwiseIdentical) {
  const auto tokens = random_tokens(150, 512, 2);
  Engine whole_engine(model(), options());
  const auto whole = run_sequence(whole_engine, 1, tokens);
  for (int64_t chunk : {1, 7, 16, 64}) {
    Engine engine(model(), options());
    EXPECT_EQ(run_sequence(engine, 1, tokens, chunk), whole) << "chunk " << chunk;
  }
}

TEST_P(CpuModelTest, BatchCompositionDoesNotChangeBits) {
  const auto a = random_tokens(70, 512, 3), b = random_tokens(33, 512, 4), c = random_tokens(5, 512, 5);
  Engine alone_engine(model(), options());
  const auto alone = run_sequence(alone_engine, 1, a);

  // a's prefill shares steps with b decoding and c prefilling.
  Engine engine(model(), options());
  run_sequence(engine, 2, b);
  const auto mixed = run_step(engine, {{2, {b[0]}, false}, {1, a}, {3, c}});
  EXPECT_EQ(mixed[1], alone);
  // and a alone again in a busy engine, in the middle of a batch.
  Engine engine2(model(), options());
  run_sequence(engine2, 5, c);
  const auto again = run_step(engine2, {{4, b}, {1, a}, {5, {c[1]}}});
  EXPECT_EQ(again[1], alone);
}

TEST_P(CpuModelTest, BlockSizeDoesNotChangeBits) {
  const auto tokens = random_tokens(100, 512, 6);
  Engine base(model(), options(16));
  const auto expected = run_sequence(base, 1, tokens);
  for (int64_t bs : {1, 8, 32}) {
    Engine engine(model(), options(bs));
    EXPECT_EQ(run_sequence(engine, 1, tokens, 9), expected) << "block size " << bs;
  }
}

TEST_P(CpuModelTest, PrefixCacheHitGivesTheSameBits) {
  const auto tokens = random_tokens(90, 512, 7);
  Engine engine(model(), options(16), /*prefix_caching=*/true);
  const auto first = run_step(engine, {{1, tokens}}, true)[0];
  engine.cache->free_sequence(1);
  const auto second = run_step(engine, {{2, tokens}}, true)[0];
  // 90 tokens: 5 full blocks (80 tokens) come from the cache.
  ASSERT_EQ(second.size(), 10u);
  for (size_t i = 0; i < second.size(); ++i) EXPECT_EQ(second[i], first[80 + i]) << i;
}

TEST_P(CpuModelTest, ForkedSamplesDivergeWithoutDisturbingTheParent) {
  const auto prompt = random_tokens(21, 512, 8);
  Engine engine(model(), options(8));
  run_sequence(engine, 1, prompt);
  engine.cache->fork(1, 2);
  // Parent and child append different tokens into the shared partial block.
  const auto step = run_step(engine, {{1, {11}}, {2, {22}}});
  // The parent's continuation equals a fresh run of prompt + 11.
  Engine fresh(model(), options(8));
  auto with_11 = prompt;
  with_11.push_back(11);
  EXPECT_EQ(step[0][0], run_sequence(fresh, 9, with_11).back());
  auto with_22 = prompt;
  with_22.push_back(22);
  Engine fresh2(model(), options(8));
  EXPECT_EQ(step[1][0], run_sequence(fresh2, 9, with_22).back());
}

TEST_P(CpuModelTest, F32KvCacheAgreesWithBf16WithinRounding) {
  const auto tokens = random_tokens(60, 512, 9);
  Engine bf16(model(), options(16, DType::BF16)), f32(model(), options(16, DType::F32));
  const auto a = run_sequence(bf16, 1, tokens), b = run_sequence(f32, 1, tokens);
  for (size_t p = 0; p < a.size(); ++p) {
    for (size_t v = 0; v < a[p].size(); ++v) ASSERT_NEAR(a[p][v], b[p][v], 0.05) << p << " " << v;
  }
}

TEST_P(CpuModelTest, DescribeNamesTheBackend) {
  Engine engine(model(), options());
  EXPECT_EQ(engine.backend->describe().rfind("cpu (", 0), 0u) << engine.backend->describe();
}

// The profile counts steps and splits their time into its four parts, each
// of which a step spends time in; reset_profile() starts it over.
TEST_P(CpuModelTest, ProfileSplitsTheStepsTimeAndResets) {
  Engine engine(model(), options());
  auto& cpu = dynamic_cast<CpuModel&>(*engine.backend);
  cpu.reset_profile();
  run_sequence(engine, 1, random_tokens(48, 512, 3));
  const CpuStepProfile& p = cpu.profile();
  EXPECT_EQ(p.steps, 1);
  EXPECT_GT(p.gemm, 0.0);
  EXPECT_GT(p.attention, 0.0);
  EXPECT_GT(p.rope_kv, 0.0);
  EXPECT_GT(p.other, 0.0);
  EXPECT_DOUBLE_EQ(p.total(), p.gemm + p.attention + p.rope_kv + p.other);
  cpu.reset_profile();
  EXPECT_EQ(cpu.profile().steps, 0);
  EXPECT_EQ(cpu.profile().total(), 0.0);
}

TEST_P(CpuModelTest, MalformedBatchIsAnInternalError) {
  Engine engine(model(), options());
  StepBatch batch;
  batch.token_ids = {1, 2};
  batch.sequences.push_back({0, 2, 0, {}});  // no blocks for 2 tokens
  LogitsBuffer sink;
  EXPECT_THROW(engine.backend->forward(batch, sink), InternalError);
}

INSTANTIATE_TEST_SUITE_P(WeightDtypes, CpuModelTest, ::testing::Values(DType::F32, DType::BF16),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

}  // namespace
}  // namespace llmbatch
