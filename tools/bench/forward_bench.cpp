// Forward-pass benchmark (not a test): decode steps at several batch sizes
// at a 512-token context, and a 512-token prefill, on random models of real
// shapes; beside each, the same GEMM shapes run through plain oneDNN and
// through the engine's own kernel in the same process, so the ratios mean
// something on whatever machine runs it.
//
//   bench_forward --preset smollm135m [--threads 2] [--steps 8] [--warmup 2] [--batches 1,16,64]
//                 [--models DIR]
//
// Each decode batch first runs `--warmup` untimed steps (its forks' first
// writes, scratch grown to the batch, caches and clocks settled), then
// times `--steps` steps.
// Prints one line per measurement; tools/bench/forward.sh runs the presets.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "backend/cpu/cpu_model.h"
#include "backend/cpu/linear.h"
#include "backend/cpu/onednn_linear.h"
#include "core/log.h"
#include "kv/kv_cache.h"
#include "model/model_dir.h"
#include "model/random_model.h"
#include "model/weight_layout.h"

using namespace llmbatch;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kContext = 512;
constexpr int64_t kBlockSize = 16;

double seconds_of(const std::function<void()>& work, int repeats) {
  work();  // warm-up
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < repeats; ++i) work();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / repeats;
}

struct Shape {
  int64_t in, out, count;  // `count` such GEMMs per forward
};

// Every GEMM of one forward, as the engine fuses them.
std::vector<Shape> gemm_shapes(const ModelConfig& c) {
  const int64_t h = c.hidden_size, L = c.num_hidden_layers;
  return {{h, c.q_size() + 2 * c.kv_size(), L}, {c.q_size(), h, L}, {h, 2 * c.intermediate_size, L},
          {c.intermediate_size, h, L}};
}

double gemm_flops_per_row(const ModelConfig& c) {
  double f = 0;
  for (const auto& s : gemm_shapes(c)) f += 2.0 * s.in * s.out * s.count;
  return f + 2.0 * c.hidden_size * c.vocab_size;  // LM head
}

// Seconds per forward's GEMMs at `rows` rows through `run(shape_index)`.
template <typename MakeLinear>
double gemm_seconds(const ModelConfig& c, int64_t rows, MakeLinear make, int repeats) {
  double total = 0;
  auto shapes = gemm_shapes(c);
  shapes.push_back({c.hidden_size, c.vocab_size, 1});
  for (const auto& s : shapes) {
    std::vector<uint16_t> w(s.in * s.out, 0x3c00);  // bf16 ~0.0078
    const auto linear = make(w.data(), s.out, s.in);
    std::vector<float> x(rows * s.in, 0.5f), y(rows * s.out);
    total += s.count * seconds_of([&] { linear.forward(x.data(), rows, y.data()); }, repeats);
  }
  return total;
}

std::string ensure_model(const std::string& preset, const std::string& models_dir) {
  const std::string dir = (fs::path(models_dir) / (preset + "-bf16")).string();
  if (!fs::exists(fs::path(dir) / "config.json")) {
    std::printf("# writing random %s model to %s\n", preset.c_str(), dir.c_str());
    fs::remove_all(dir);
    RandomModelOptions o;
    o.config = random_preset_config(preset);
    o.config.torch_dtype = DType::BF16;
    random_model_write(o, dir);
  }
  return dir;
}

class NullSink : public LogitsSink {
 public:
  void consume(int64_t, std::span<const float>) override {}
};

// "time: GEMM 78.0%, attention 14.1% (4.52 ms/step), RoPE + KV write 3.0%,
// other 4.9%", over `steps` steps.
std::string time_shares(const CpuStepProfile& p, int64_t steps) {
  char line[200];
  std::snprintf(line, sizeof line,
                "time: GEMM %.1f%%, attention %.1f%% (%.2f ms/step), RoPE + KV write %.1f%%, other %.1f%%",
                100 * p.gemm / p.total(), 100 * p.attention / p.total(), 1e3 * p.attention / steps,
                100 * p.rope_kv / p.total(), 100 * p.other / p.total());
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"forward-pass benchmark"};
  std::string preset = "smollm135m", models_dir = "out/bench-models";
  int threads = 2, steps = 8, warmup = 2;
  std::vector<int64_t> batches = {1, 16, 64};
  app.add_option("--preset", preset);
  app.add_option("--batches", batches, "decode batch sizes")->delimiter(',')->check(CLI::PositiveNumber);
  app.add_option("--threads", threads);
  app.add_option("--steps", steps)->check(CLI::PositiveNumber);
  app.add_option("--warmup", warmup, "untimed decode steps before the timed ones")->check(CLI::NonNegativeNumber);
  app.add_option("--models", models_dir);
  CLI11_PARSE(app, argc, argv);
  log_init("warn");

  const ModelDir model = model_dir_open(ensure_model(preset, models_dir));
  const ModelConfig& c = model.config;
  BackendOptions options;
  options.block_size = kBlockSize;
  options.max_model_len = kContext + warmup + steps + 8;
  const int64_t largest_batch = *std::max_element(batches.begin(), batches.end());
  options.num_blocks = (largest_batch + 1) * ((options.max_model_len + kBlockSize - 1) / kBlockSize);
  options.threads = threads;
  CpuModel backend(c, MappedWeightSet(model.tensors), options);
  const DType onednn_compute = linear_compute_dtype(DType::BF16, DType::BF16);
  std::printf("# %s: %s; oneDNN baseline computes in %s\n", preset.c_str(), backend.describe().c_str(),
              std::string(dtype_name(onednn_compute)).c_str());

  // Prefill: one 512-token prompt in one step.
  KvCache cache({.block_size = kBlockSize, .num_blocks = options.num_blocks, .prefix_caching = false});
  std::vector<TokenId> prompt(kContext);
  for (int64_t i = 0; i < kContext; ++i) prompt[i] = static_cast<TokenId>((i * 7919) % c.vocab_size);
  cache.add_sequence(0, prompt, {});
  StepBatch prefill;
  prefill.token_ids = prompt;
  prefill.sequences.push_back({0, kContext, 0, cache.block_table(0)});
  prefill.logit_rows = {kContext - 1};
  NullSink sink;
  backend.reset_profile();
  const double prefill_s = seconds_of([&] { backend.forward(prefill, sink); }, 1) ;
  cache.mark_computed(0, kContext);
  const double flops_row = gemm_flops_per_row(c);
  const double attn_flops_prefill = 4.0 * c.num_hidden_layers * c.q_size() * (kContext * (kContext + 1) / 2.0);
  const auto prof = backend.profile();
  std::printf("prefill %lld tokens: %.3f s, %.1f tok/s, %.1f GFLOP/s; %s\n", (long long)kContext, prefill_s,
              kContext / prefill_s,
              (flops_row * kContext - 2.0 * c.hidden_size * c.vocab_size * (kContext - 1) + attn_flops_prefill) / prefill_s / 1e9,
              time_shares(prof, 1).c_str());

  // Decode: B sequences forked from the prompt, each one token per step.
  SeqId next_seq = 1;
  for (int64_t b : batches) {
    std::vector<SeqId> seqs;
    for (int64_t i = 0; i < b; ++i) {
      cache.fork(0, next_seq);
      seqs.push_back(next_seq++);
    }
    // Per timed step: its time and profile. The mean is what a job sees;
    // the median step's shares (the upper median for an even count) are
    // those of a step that no burst of other work on the machine (a shared
    // VM's neighbours) stretched.
    std::vector<std::pair<double, CpuStepProfile>> timed;
    for (int s = -warmup; s < steps; ++s) {
      backend.reset_profile();
      StepBatch step;
      for (SeqId seq : seqs) {
        const TokenId t = static_cast<TokenId>((seq * 31 + s + warmup) % c.vocab_size);
        const int64_t pos = cache.num_tokens(seq);
        cache.append(seq, std::span<const TokenId>(&t, 1), &step.copies);
        step.sequences.push_back({step.num_tokens(), 1, pos, cache.block_table(seq)});
        step.logit_rows.push_back(step.num_tokens());
        step.token_ids.push_back(t);
      }
      const auto start = std::chrono::steady_clock::now();
      backend.forward(step, sink);
      const double step_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (s >= 0) timed.emplace_back(step_seconds, backend.profile());
      for (SeqId seq : seqs) cache.mark_computed(seq, cache.num_tokens(seq));
    }
    double total_s = 0;
    CpuStepProfile p;
    for (const auto& [seconds, profile] : timed) {
      total_s += seconds;
      p.gemm += profile.gemm;
      p.attention += profile.attention;
      p.rope_kv += profile.rope_kv;
      p.other += profile.other;
    }
    const double step_s = total_s / steps;
    std::sort(timed.begin(), timed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    const auto& [median_s, median_profile] = timed[timed.size() / 2];
    const double attn_flops = 4.0 * c.num_hidden_layers * c.q_size() * (kContext + warmup + steps / 2.0) * b;
    const double achieved = (flops_row * b + attn_flops) / step_s / 1e9;
    const int repeats = b == 1 ? 3 : 1;
    const double onednn_s = gemm_seconds(c, b, [&](const uint16_t* w, int64_t out, int64_t in) {
      return OnednnLinear(w, DType::BF16, out, in, onednn_compute); }, repeats);
    HugePageArena own_weights("the benchmark's weights");
    const double own_s = gemm_seconds(c, b, [&](const uint16_t* w, int64_t out, int64_t in) {
      return Linear(own_weights, w, DType::BF16, out, in, DType::BF16); }, repeats);
    const int64_t first_position = kContext + warmup, last_position = first_position + steps - 1;
    std::printf("decode batch %3lld @ctx %lld-%lld: %.1f ms/step, %.1f tok/s, %.1f GFLOP/s = %.0f%% of plain oneDNN "
                "GEMM (%.1f GFLOP/s), own GEMM alone %.1f GFLOP/s; %s; median step %.1f ms, %s\n",
                (long long)b, (long long)first_position, (long long)last_position, 1e3 * step_s, b / step_s, achieved,
                100 * achieved / (flops_row * b / onednn_s / 1e9), flops_row * b / onednn_s / 1e9,
                flops_row * b / own_s / 1e9, time_shares(p, steps).c_str(), 1e3 * median_s,
                time_shares(median_profile, 1).c_str());
    for (SeqId seq : seqs) cache.free_sequence(seq);
  }
  return 0;
}
