// `llmbatch bench`: offline throughput of the engine on a synthetic workload
// (like trtllm-bench or llama-batched-bench), over a model directory or a
// random-weight preset. `--compare static` runs the static-batching baseline
// with the same KV memory in the same process and prints the ratio.
#include <sys/resource.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "backend/backend.h"
#include "cli/command.h"
#include "core/error.h"
#include "core/units.h"
#include "engine/bench_runner.h"
#include "engine/bench_workload.h"
#include "kv/kv_config.h"
#include "model/model_dir.h"
#include "model/random_model.h"

namespace llmbatch::cli {
namespace {

namespace fs = std::filesystem;

struct BenchArgs {
  std::string model;
  std::string preset;
  std::string dtype = "bf16";
  std::string dataset = "fixed";
  BenchWorkload workload;
  int64_t max_num_seqs = 64;
  int64_t max_num_batched_tokens = 2048;
  std::string kv_cache_memory = "4GiB";
  int64_t block_size = 16;
  std::string kv_dtype = "bf16";
  int threads = 0;
  std::string compare;
  bool json = false;
};

// A random preset written to a temporary directory for the run.
class TemporaryModel {
 public:
  TemporaryModel(const std::string& preset, const std::string& dtype) {
    RandomModelOptions options;
    options.config = random_preset_config(preset);
    if (!dtype_parse(dtype, &options.config.torch_dtype)) {
      throw ConfigError("unknown dtype '" + dtype + "' (use bf16, f16 or f32)", {.key = "--dtype"});
    }
    path_ = (fs::temp_directory_path() / ("llmbatch-bench-" + std::to_string(::getpid()))).string();
    fs::remove_all(path_);
    random_model_write(options, path_);
  }
  ~TemporaryModel() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

nlohmann::json report_json(const BenchReport& r) {
  return {{"policy", r.policy},
          {"requests", r.requests},
          {"errors", r.errors},
          {"steps", r.steps},
          {"wall_seconds", r.wall_seconds},
          {"prompt_tokens", r.prompt_tokens},
          {"generated_tokens", r.generated_tokens},
          {"computed_tokens", r.computed_tokens},
          {"total_tokens_per_second", r.total_tokens_per_second()},
          {"prompt_tokens_per_second", r.prompt_tokens_per_second()},
          {"generated_tokens_per_second", r.generated_tokens_per_second()},
          {"step_p50_ms", r.step_p50_ms},
          {"step_p99_ms", r.step_p99_ms},
          {"max_batch_sequences", r.max_batch_sequences},
          {"kv_waste", r.kv_waste},
          {"prefix_hit_rate", r.prefix_hit_rate},
          {"preemptions", r.preemptions}};
}

void print_report(const BenchReport& r) {
  std::printf("%-10s %8lld %8.2f %11.1f %12.1f %9.1f %8.1f %8.1f %6lld %7.2f%% %7.2f%% %6lld\n", r.policy.c_str(),
              static_cast<long long>(r.requests), r.wall_seconds, r.total_tokens_per_second(),
              r.prompt_tokens_per_second(), r.generated_tokens_per_second(), r.step_p50_ms, r.step_p99_ms,
              static_cast<long long>(r.max_batch_sequences), 100.0 * r.kv_waste, 100.0 * r.prefix_hit_rate,
              static_cast<long long>(r.preemptions));
}

int64_t peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;
}

int run_bench_command(BenchArgs a) {
  if (a.model.empty() == a.preset.empty()) throw ConfigError("give exactly one of --model and --preset", {.key = "--model"});
  if (!a.compare.empty() && a.compare != "static") throw ConfigError("only 'static' can be compared", {.key = "--compare"});
  a.workload.distribution = parse_length_distribution(a.dataset);
  std::unique_ptr<TemporaryModel> temporary;
  if (!a.preset.empty()) temporary = std::make_unique<TemporaryModel>(a.preset, a.dtype);
  const ModelDir model = model_dir_open(temporary ? temporary->path() : a.model);

  const auto requests = bench_requests(a.workload, model.config.vocab_size);
  int64_t max_len = 2;
  for (const auto& r : requests) {
    max_len = std::max<int64_t>(max_len, static_cast<int64_t>(r.prompt.size()) + r.sampling.max_tokens);
  }
  DType kv_dtype;
  if (!dtype_parse(a.kv_dtype, &kv_dtype)) throw ConfigError("use bf16 or f32", {.key = "--kv-dtype"});
  const KvLayout layout = kv_layout_of(model.config, kv_dtype);
  kv_check_layout(layout);
  kv_check_block_size(a.block_size);
  const int64_t num_blocks =
      kv_num_blocks_for_memory(layout, a.block_size, parse_byte_size(a.kv_cache_memory, "--kv-cache-memory"));

  BackendOptions backend_options;
  backend_options.kv_dtype = kv_dtype;
  backend_options.block_size = a.block_size;
  backend_options.num_blocks = num_blocks;
  backend_options.max_model_len = max_len;
  backend_options.threads = a.threads;
  const auto backend = make_cpu_backend(model.config, MappedWeightSet(model.tensors), backend_options);

  EngineOptions options;
  options.scheduler = {.policy = SchedulerPolicy::kContinuous,
                       .max_num_seqs = a.max_num_seqs,
                       .max_num_batched_tokens = a.max_num_batched_tokens};
  options.max_model_len = max_len;
  options.vocab_size = model.config.vocab_size;
  const KvCacheConfig kv{.block_size = a.block_size, .num_blocks = num_blocks, .prefix_caching = true};

  std::vector<BenchReport> reports{run_bench(*backend, kv, options, requests)};
  if (a.compare == "static") {
    options.scheduler.policy = SchedulerPolicy::kStatic;
    reports.push_back(run_bench(*backend, kv, options, requests));
  }

  const std::string model_name = a.preset.empty() ? a.model : a.preset + " (random, " + a.dtype + ")";
  if (a.json) {
    nlohmann::json out = {{"model", model_name},
                          {"backend", backend->describe()},
                          {"dataset", a.dataset},
                          {"prefix_len", a.workload.prefix_len},
                          {"n", a.workload.n},
                          {"num_prompts", a.workload.num_prompts},
                          {"max_num_seqs", a.max_num_seqs},
                          {"kv_blocks", num_blocks},
                          {"block_size", a.block_size},
                          {"peak_rss_bytes", peak_rss_bytes()},
                          {"runs", nlohmann::json::array()}};
    for (const auto& r : reports) out["runs"].push_back(report_json(r));
    std::printf("%s\n", out.dump(1).c_str());
    return 0;
  }
  std::printf("model:    %s\nbackend:  %s\n", model_name.c_str(), backend->describe().c_str());
  if (a.workload.distribution == LengthDistribution::kFixed) {
    std::printf("workload: %lld prompts, %lld in / %lld out tokens", static_cast<long long>(a.workload.num_prompts),
                static_cast<long long>(a.workload.input_len), static_cast<long long>(a.workload.output_len));
  } else {
    std::printf("workload: %lld prompts, sharegpt-like lognormal lengths",
                static_cast<long long>(a.workload.num_prompts));
  }
  std::printf(", shared prefix %lld, n %lld\n", static_cast<long long>(a.workload.prefix_len),
              static_cast<long long>(a.workload.n));
  std::printf("engine:   max_num_seqs %lld, max_num_batched_tokens %lld, KV %s = %lld blocks of %lld (%s)\n\n",
              static_cast<long long>(a.max_num_seqs), static_cast<long long>(a.max_num_batched_tokens),
              a.kv_cache_memory.c_str(), static_cast<long long>(num_blocks), static_cast<long long>(a.block_size),
              a.kv_dtype.c_str());
  std::printf("%-10s %8s %8s %11s %12s %9s %8s %8s %6s %8s %8s %6s\n", "policy", "requests", "wall s", "total tok/s",
              "prompt tok/s", "gen tok/s", "p50 ms", "p99 ms", "batch", "KV waste", "prefix", "preempt");
  for (const auto& r : reports) print_report(r);
  if (reports.size() == 2) {
    std::printf("\ncontinuous / static: generated tok/s x%.2f, total tok/s x%.2f\n",
                reports[0].generated_tokens_per_second() / reports[1].generated_tokens_per_second(),
                reports[0].total_tokens_per_second() / reports[1].total_tokens_per_second());
  }
  std::printf("peak RSS: %s\n", format_bytes(static_cast<uint64_t>(peak_rss_bytes())).c_str());
  return 0;
}

}  // namespace

void add_bench_command(CLI::App& app, CommandAction& action) {
  auto* cmd = app.add_subcommand("bench", "offline throughput benchmark on a synthetic workload");
  auto args = std::make_shared<BenchArgs>();
  cmd->add_option("--model", args->model, "Hugging Face model directory");
  cmd->add_option("--preset", args->preset, "random-weight preset instead of a model (tiny, smollm135m, ...)");
  cmd->add_option("--dtype", args->dtype, "weights of the random preset: bf16|f16|f32")->capture_default_str();
  cmd->add_option("--dataset", args->dataset, "length distribution: fixed|sharegpt")->capture_default_str();
  cmd->add_option("--input-len", args->workload.input_len, "prompt tokens (fixed)")->capture_default_str();
  cmd->add_option("--output-len", args->workload.output_len, "generated tokens (fixed)")->capture_default_str();
  cmd->add_option("--num-prompts", args->workload.num_prompts, "requests")->capture_default_str();
  cmd->add_option("--seed", args->workload.seed, "workload seed")->capture_default_str();
  cmd->add_option("--prefix-len", args->workload.prefix_len, "tokens every prompt starts with (a shared system prompt)")
      ->capture_default_str();
  cmd->add_option("--n", args->workload.n, "samples per prompt (at temperature 1)")->capture_default_str();
  cmd->add_option("--max-num-seqs", args->max_num_seqs, "sequences per step")->capture_default_str();
  cmd->add_option("--max-num-batched-tokens", args->max_num_batched_tokens, "tokens per step")->capture_default_str();
  cmd->add_option("--kv-cache-memory", args->kv_cache_memory, "KV cache size, e.g. 4GiB")->capture_default_str();
  cmd->add_option("--block-size", args->block_size, "tokens per KV block")->capture_default_str();
  cmd->add_option("--kv-dtype", args->kv_dtype, "KV cache precision: bf16|f32")->capture_default_str();
  cmd->add_option("--threads", args->threads, "CPU threads (0: all cores)")->capture_default_str();
  cmd->add_option("--compare", args->compare, "also run a baseline policy: static");
  cmd->add_flag("--json", args->json, "print JSON");
  cmd->callback([args, &action] { action = [args] { return run_bench_command(*args); }; });
}

}  // namespace llmbatch::cli
