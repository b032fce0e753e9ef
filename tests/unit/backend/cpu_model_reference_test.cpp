// The CPU model (paged KV, chunked prefill) against the independent float64
// reference forward (tests/reference, itself checked against Hugging Face
// transformers), on random models built to make bugs visible (init_std
// 0.1): Llama with GQA and an untied head, Qwen2 with biases, MQA, and
// llama3 RoPE scaling at positions past original_max_position_embeddings.
#include <algorithm>
#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "model_fixture.h"
#include "reference/naive_forward.h"

namespace llmbatch {
namespace {

using testing::Engine;
using testing::RandomModelDir;

struct Variant {
  std::string name;
  DType weights;
  std::string arch = "llama";
  int64_t kv_heads = 0;  // 0: the preset's
  bool llama3 = false;
};

RandomModelOptions options_for(const Variant& v) {
  RandomModelOptions o = testing::tiny_options(v.weights, 11);
  if (v.arch == "qwen2") {
    o.config.architecture = Architecture::Qwen2;
    o.config.qkv_bias = true;
  }
  if (v.kv_heads > 0) o.config.num_key_value_heads = v.kv_heads;
  if (v.llama3) o.config.rope_scaling = {RopeScalingType::Llama3, 8.0, 1.0, 4.0, 64};
  return o;
}

std::vector<double> log_softmax(const std::vector<float>& logits) {
  const double mx = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float v : logits) sum += std::exp(v - mx);
  std::vector<double> out(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) out[i] = logits[i] - mx - std::log(sum);
  return out;
}

class CpuModelReferenceTest : public ::testing::TestWithParam<Variant> {};

TEST_P(CpuModelReferenceTest, LogprobsMatchTheFloat64Reference) {
  const Variant& v = GetParam();
  const RandomModelDir dir(options_for(v));
  // f32 weights are compared with an f32 KV cache (tolerance 2e-3), bf16
  // weights with the bf16 cache a bf16 model runs with (5e-2): the bounds.
  const bool f32 = v.weights == DType::F32;
  const double tolerance = f32 ? 2e-3 : 5e-2;
  BackendOptions options;
  options.kv_dtype = f32 ? DType::F32 : DType::BF16;
  options.block_size = 16;
  options.num_blocks = 8 * 320 / 16 + 8;
  options.max_model_len = 320;
  Engine engine(dir.model(), options);
  const reference::ReferenceModel reference(dir.model());

  double worst = 0;
  SeqId seq = 0;
  for (int64_t len : {1, 2, 17, 31, 64, 100, 200, 300}) {
    const auto tokens = testing::random_tokens(len, dir.model().config.vocab_size, 100 + len);
    const auto ours = testing::run_sequence(engine, seq++, tokens, 48);
    const auto ref = reference.logprobs(std::vector<int64_t>(tokens.begin(), tokens.end()));
    ASSERT_EQ(ours.size(), ref.size());
    for (size_t p = 0; p < ref.size(); ++p) {
      const auto lp = log_softmax(ours[p]);
      size_t ref_best = 0, our_best = 0;
      for (size_t t = 0; t < lp.size(); ++t) {
        worst = std::max(worst, std::abs(lp[t] - ref[p][t]));
        if (ref[p][t] > ref[p][ref_best]) ref_best = t;
        if (lp[t] > lp[our_best]) our_best = t;
      }
      // Greedy choice identical unless the reference itself has a near tie.
      std::vector<double> sorted = ref[p];
      std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<>());
      if (sorted[0] - sorted[1] > 2 * tolerance) {
        ASSERT_EQ(our_best, ref_best) << v.name << " length " << len << " position " << p;
      }
    }
  }
  RecordProperty("max_abs_logprob_delta", std::to_string(worst));
  EXPECT_LE(worst, tolerance) << v.name;
  std::printf("%s: max |delta logprob| = %.3g (tolerance %.0e)\n", v.name.c_str(), worst, tolerance);
}

INSTANTIATE_TEST_SUITE_P(
    Models, CpuModelReferenceTest,
    ::testing::Values(Variant{"llama_gqa_f32", DType::F32}, Variant{"llama_gqa_bf16", DType::BF16},
                      Variant{"qwen2_bias_f32", DType::F32, "qwen2"}, Variant{"qwen2_bias_bf16", DType::BF16, "qwen2"},
                      Variant{"mqa_f32", DType::F32, "llama", 1},
                      Variant{"llama3_rope_f32", DType::F32, "llama", 0, true}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace llmbatch
