// `llmbatch logprobs --model DIR --ids 1,2,3 [--top 5]`: per-position
// log-probabilities of a token sequence, like llama.cpp's perplexity tool,
// for quick checks of a model from the shell. Prints JSON.
#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backend/backend.h"
#include "cli/command.h"
#include "core/error.h"
#include "kv/kv_cache.h"
#include "model/model_dir.h"
#include "sampling/logprobs.h"

namespace llmbatch::cli {
namespace {

struct LogprobsArgs {
  std::string model;
  std::string ids;
  int64_t top = 5;
  std::string weights = "auto";
  std::string kv_dtype = "bf16";
  int threads = 0;
};

constexpr int64_t kChunkTokens = 512;
constexpr int64_t kBlockSize = 16;

std::vector<TokenId> parse_ids(const std::string& text, int64_t vocab) {
  std::vector<TokenId> ids;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || v < 0 || v >= vocab) {
      throw ConfigError("'" + item + "' is not a token id of this model (0.." + std::to_string(vocab - 1) + ")",
                        {.key = "--ids"});
    }
    ids.push_back(static_cast<TokenId>(v));
  }
  if (ids.size() < 2) throw ConfigError("give at least two token ids", {.key = "--ids"});
  return ids;
}

DType parse_dtype_flag(const std::string& text, const std::string& key) {
  DType t;
  if (!dtype_parse(text, &t) || t == DType::F16) throw ConfigError("use f32 or bf16", {.key = key});
  return t;
}

// Logprob of the next given token at every position of a chunk.
class NextTokenSink : public LogitsSink {
 public:
  NextTokenSink(const std::vector<TokenId>& ids, int64_t first_position, int64_t top)
      : ids_(ids), first_(first_position), top_(top) {}
  void consume(int64_t index, std::span<const float> logits) override {
    results.push_back(position_logprobs(logits, ids_[first_ + index + 1], top_));
  }
  std::vector<PositionLogprobs> results;

 private:
  const std::vector<TokenId>& ids_;
  int64_t first_, top_;
};

int run_logprobs(const LogprobsArgs& a) {
  const ModelDir model = model_dir_open(a.model);
  const auto ids = parse_ids(a.ids, model.config.vocab_size);
  if (a.top < 0 || a.top > 20) throw ConfigError("--top must be in 0..20", {.key = "--top"});
  const int64_t n = static_cast<int64_t>(ids.size());

  BackendOptions options;
  if (a.weights != "auto") options.weight_dtype = parse_dtype_flag(a.weights, "--weights");
  options.kv_dtype = parse_dtype_flag(a.kv_dtype, "--kv-dtype");
  options.block_size = kBlockSize;
  options.num_blocks = (n + kBlockSize - 1) / kBlockSize;
  options.max_model_len = n;
  options.threads = a.threads;
  const auto backend = make_cpu_backend(model.config, MappedWeightSet(model.tensors), options);
  KvCache cache({.block_size = kBlockSize, .num_blocks = options.num_blocks, .prefix_caching = false});

  nlohmann::json positions = nlohmann::json::array();
  double sum = 0.0;
  for (int64_t begin = 0; begin < n - 1; begin += kChunkTokens) {
    const int64_t end = std::min(n, begin + kChunkTokens);
    const std::span<const TokenId> chunk(ids.data() + begin, end - begin);
    std::vector<BlockCopy> copies;
    const bool ok = begin == 0 ? cache.add_sequence(0, chunk, {}) : cache.append(0, chunk, &copies);
    LLMBATCH_CHECK(ok, "KV cache sized for the whole sequence ran out");
    StepBatch batch;
    batch.token_ids.assign(chunk.begin(), chunk.end());
    batch.sequences.push_back({0, end - begin, begin, cache.block_table(0)});
    batch.copies = copies;
    // Logits at every position that has a next token.
    for (int64_t p = begin; p < std::min(end, n - 1); ++p) batch.logit_rows.push_back(p - begin);
    NextTokenSink sink(ids, begin, a.top);
    backend->forward(batch, sink);
    cache.mark_computed(0, end);
    for (size_t i = 0; i < sink.results.size(); ++i) {
      const auto& r = sink.results[i];
      nlohmann::json top = nlohmann::json::array();
      for (const auto& t : r.top) top.push_back({t.token, t.logprob});
      positions.push_back({{"position", begin + static_cast<int64_t>(i)},
                           {"next", r.chosen.token},
                           {"logprob", r.chosen.logprob},
                           {"rank", r.rank},
                           {"top", top}});
      sum += r.chosen.logprob;
    }
  }
  const double mean = sum / static_cast<double>(n - 1);
  const nlohmann::json out = {{"model", a.model},       {"backend", backend->describe()},
                              {"num_tokens", n},        {"positions", positions},
                              {"sum_logprob", sum},     {"mean_logprob", mean},
                              {"perplexity", std::exp(-mean)}};
  std::printf("%s\n", out.dump(1).c_str());
  return 0;
}

}  // namespace

void add_logprobs_command(CLI::App& app, CommandAction& action) {
  auto* cmd = app.add_subcommand("logprobs", "per-position log-probabilities of a token sequence (JSON)");
  auto args = std::make_shared<LogprobsArgs>();
  cmd->add_option("--model", args->model, "Hugging Face model directory")->required();
  cmd->add_option("--ids", args->ids, "token ids, comma-separated, e.g. 1,2,3")->required();
  cmd->add_option("--top", args->top, "alternatives per position (0..20)")->capture_default_str();
  cmd->add_option("--weights", args->weights, "weight precision: auto|f32|bf16")->capture_default_str();
  cmd->add_option("--kv-dtype", args->kv_dtype, "KV cache precision: bf16|f32")->capture_default_str();
  cmd->add_option("--threads", args->threads, "CPU threads (0: all cores)")->capture_default_str();
  cmd->callback([args, &action] { action = [args] { return run_logprobs(*args); }; });
}

}  // namespace llmbatch::cli
