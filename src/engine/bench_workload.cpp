#include "engine/bench_workload.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/philox.h"

namespace llmbatch {
namespace {

constexpr double kShareGptSigma = 1.0;
constexpr double kShareGptMeanIn = 166.0;  // before clamping
constexpr double kShareGptMeanOut = 390.0;
constexpr int64_t kShareGptMinLen = 4;
constexpr int64_t kShareGptMaxLen = 1024;

int64_t lognormal_length(double mean, float normal) {
  const double mu = std::log(mean) - kShareGptSigma * kShareGptSigma / 2.0;
  const double len = std::exp(mu + kShareGptSigma * normal);
  return std::clamp(static_cast<int64_t>(std::llround(len)), kShareGptMinLen, kShareGptMaxLen);
}

}  // namespace

LengthDistribution parse_length_distribution(const std::string& name) {
  if (name == "fixed") return LengthDistribution::kFixed;
  if (name == "sharegpt") return LengthDistribution::kShareGpt;
  throw ConfigError("unknown length distribution '" + name + "' (use fixed or sharegpt)", {.key = "--dataset"});
}

std::vector<EngineRequest> bench_requests(const BenchWorkload& workload, int64_t vocab_size) {
  if (workload.num_prompts < 1) throw ConfigError("must be at least 1", {.key = "--num-prompts"});
  if (workload.input_len < 1) throw ConfigError("must be at least 1", {.key = "--input-len"});
  if (workload.output_len < 1) throw ConfigError("must be at least 1", {.key = "--output-len"});
  if (workload.prefix_len < 0) throw ConfigError("must not be negative", {.key = "--prefix-len"});
  if (workload.n < 1) throw ConfigError("must be at least 1", {.key = "--n"});
  const PhiloxKey key = {static_cast<uint32_t>(workload.seed), static_cast<uint32_t>(workload.seed >> 32)};
  std::vector<EngineRequest> requests;
  requests.reserve(static_cast<size_t>(workload.num_prompts));
  for (int64_t i = 0; i < workload.num_prompts; ++i) {
    const auto index = static_cast<uint32_t>(i);
    EngineRequest r;
    r.key = static_cast<uint64_t>(i);
    r.id = std::to_string(i);
    int64_t in = workload.input_len, out = workload.output_len;
    if (workload.distribution == LengthDistribution::kShareGpt) {
      const auto bits = philox4x32({index, 0, 0, 1}, key);
      const auto normals = philox_normal_pair(bits[0], bits[1]);
      in = lognormal_length(kShareGptMeanIn, normals[0]);
      out = lognormal_length(kShareGptMeanOut, normals[1]);
    }
    // Token t of the shared prefix draws from counter (0, t, 0, 3), the same
    // for every prompt; the prompt's own tokens from (index, t, 0, 2).
    auto token = [&](uint32_t stream, int64_t t, uint32_t kind) {
      const auto bits = philox4x32({stream, static_cast<uint32_t>(t), 0, kind}, key);
      return static_cast<TokenId>(bits[0] % static_cast<uint64_t>(vocab_size));
    };
    for (int64_t t = 0; t < workload.prefix_len; ++t) r.prompt.push_back(token(0, t, 3));
    for (int64_t t = 0; t < in; ++t) r.prompt.push_back(token(index, t, 2));
    r.sampling.max_tokens = out;
    r.sampling.ignore_eos = true;
    r.sampling.n = workload.n;
    r.sampling.temperature = workload.n > 1 ? 1.0 : 0.0;
    r.sampling.seed = static_cast<uint64_t>(i);
    requests.push_back(std::move(r));
  }
  return requests;
}

}  // namespace llmbatch
