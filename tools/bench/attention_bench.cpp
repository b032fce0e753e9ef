// Attention micro-benchmark (not a test): one decode step's paged attention
// over every layer of a preset, each layer with its own K/V arrays, for
// `--sequences` sequences at `--context` positions. By default every
// sequence has its own blocks, scattered over the pool, and the caches are
// evicted before each step (the engine's case: attention streams the KV
// from memory); `--shared` gives all sequences one block table (the KV
// stays in cache, so the kernel's arithmetic is what is timed); `--forked`
// gives them the same blocks up to the last one, which each has of its own,
// and evicts the caches, as tools/bench/forward.sh's decode steps of
// sequences forked from one prompt; `--fork-at P` (with --forked) shares
// only the whole blocks before position P (a sequence's last block always
// its own), as forks of a P-token prompt some steps on.
//
//   bench_attention --preset smollm135m --sequences 64 --context 512
//                   [--shared | --forked [--fork-at 512]] [--threads 2] [--steps 20]
//                   [--kernel avx512-bf16 ...]
//
// Prints the best and the mean step time and the rate at which the step
// reads K and V, for each vector kernel the CPU runs (AVX2, AVX-512 and
// AVX-512 BF16 where the CPU has them), their steps alternated, and the
// first one's time over each other's. `--kernel` keeps the named kernels
// only (to profile one).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "backend/backend.h"
#include "backend/cpu/attention.h"
#include "backend/cpu/linear.h"
#include "core/dtype.h"
#include "kv/kv_storage.h"
#include "model/random_model.h"

using namespace llmbatch;

int main(int argc, char** argv) {
  CLI::App app{"attention micro-benchmark"};
  std::string preset = "smollm135m";
  int64_t sequences = 64, context = 512, block_size = 16, fork_at = 0;
  int threads = 2, steps = 20;
  bool shared = false, forked = false;
  std::vector<std::string> kernel_names;
  app.add_option("--preset", preset);
  app.add_option("--sequences", sequences)->check(CLI::PositiveNumber);
  app.add_option("--context", context)->check(CLI::PositiveNumber);
  app.add_option("--block-size", block_size)->check(CLI::PositiveNumber);
  app.add_option("--threads", threads);
  app.add_option("--steps", steps)->check(CLI::PositiveNumber);
  auto* shared_flag = app.add_flag("--shared", shared);
  auto* forked_flag = app.add_flag("--forked", forked)->excludes(shared_flag);
  app.add_option("--fork-at", fork_at, "forked: the prompt's length (default: all blocks but the last)")
      ->check(CLI::PositiveNumber)
      ->needs(forked_flag);
  app.add_option("--kernel", kernel_names, "only these kernels (portable, avx2+fma, avx512, avx512-bf16)");
  CLI11_PARSE(app, argc, argv);
  cpu_set_threads(threads);

  const ModelConfig c = random_preset_config(preset);
  const AttentionShape shape{c.num_attention_heads, c.num_key_value_heads, c.head_dim, block_size, DType::BF16};
  const int64_t blocks_per_sequence = (context + block_size - 1) / block_size;
  // Forked: the blocks before the last (or before --fork-at) are the
  // prompt's, the rest each sequence's own.
  const int64_t own_blocks = shared                ? 0
                             : forked && fork_at > 0 ? blocks_per_sequence - std::min(fork_at, context - 1) / block_size
                             : forked                ? 1
                                                     : blocks_per_sequence;
  const int64_t common_blocks = blocks_per_sequence - own_blocks;
  const int64_t num_blocks = common_blocks + own_blocks * sequences;
  const int64_t layer_elems = num_blocks * block_size * c.num_key_value_heads * c.head_dim;

  // Random bf16 K and V in [0.5, 2), in the engine's own KV storage: one
  // array per layer, every block's K then its V.
  KvStorage storage(kv_layout_of(c, DType::BF16), num_blocks, block_size);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> value(0.5f, 2.0f);
  std::vector<float> random_layer(2 * layer_elems);
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    for (auto& x : random_layer) x = value(rng);
    dtype_from_f32(DType::BF16, random_layer.data(), storage.k_data(l), random_layer.size());
  }
  // Block ids handed out in a shuffled order, as a long-running pool does.
  std::vector<BlockId> ids(num_blocks);
  std::iota(ids.begin(), ids.end(), 0);
  std::shuffle(ids.begin(), ids.end(), rng);
  std::vector<std::vector<BlockId>> tables;
  std::vector<AttentionSequence> calls;
  for (int64_t s = 0; s < sequences; ++s) {
    std::vector<BlockId>& table = tables.emplace_back(ids.begin(), ids.begin() + common_blocks);
    const auto own = ids.begin() + common_blocks + s * own_blocks;
    table.insert(table.end(), own, own + own_blocks);
  }
  for (int64_t s = 0; s < sequences; ++s) calls.push_back({s, 1, context - 1, tables[s]});
  std::vector<float> q(sequences * c.q_size(), 0.1f), out(q.size());
  std::vector<char> evict(256 << 20, 1);
  int64_t evicted = 0;  // read, not written: no write-backs of the evicting lines during the timed step

  // The vector kernels the CPU runs (else the portable one), or the named ones.
  const AttentionKernel all[] = {AttentionKernel::Portable, AttentionKernel::Avx2, AttentionKernel::Avx512,
                                 AttentionKernel::Avx512Bf16};
  std::vector<AttentionKernel> kernels;
  for (const AttentionKernel k : std::span(all).subspan(1)) {
    if (attention_kernel_supported(k, shape)) kernels.push_back(k);
  }
  if (kernels.empty()) kernels.push_back(AttentionKernel::Portable);
  if (!kernel_names.empty()) {
    kernels.clear();
    for (const auto& name : kernel_names) {
      const auto named = std::ranges::find_if(all, [&](auto k) { return name == attention_kernel_name(k); });
      if (named == std::end(all) || !attention_kernel_supported(*named, shape)) {
        std::fprintf(stderr, "bench_attention: no kernel '%s' for this CPU and shape\n", name.c_str());
        return 2;
      }
      kernels.push_back(*named);
    }
  }
  std::vector<double> best(kernels.size(), 1e30), total(kernels.size(), 0);
  for (int step = 0; step <= steps; ++step) {  // step 0 warms up
    for (size_t k = 0; k < kernels.size(); ++k) {
      if (!shared) {
        for (size_t i = 0; i < evict.size(); i += 64) evicted += evict[i];
      }
      const auto start = std::chrono::steady_clock::now();
      const AttentionPlan plan = plan_attention(shape, calls, cpu_threads());  // once per step, as CpuModel
      for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
        paged_attention(kernels[k], shape, plan, q.data(), storage.k_data(l), storage.v_data(l), out.data());
      }
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (step == 0) continue;
      best[k] = std::min(best[k], s);
      total[k] += s;
    }
  }
  const double kv_bytes = 2.0 * sequences * context * c.num_key_value_heads * c.head_dim * 2 * c.num_hidden_layers;
  for (size_t k = 0; k < kernels.size(); ++k) {
    std::printf("%s attention, %lld sequences @ctx %lld, %s KV, %d threads (%s): best %.2f ms, mean %.2f ms per step; "
                "K+V %.1f MB per step, %.1f GB/s at the best\n",
                preset.c_str(), static_cast<long long>(sequences), static_cast<long long>(context),
                shared ? "shared" : forked ? "forked" : "own", threads, attention_kernel_name(kernels[k]),
                best[k] * 1e3, total[k] / steps * 1e3, kv_bytes / 1e6, kv_bytes / best[k] / 1e9);
  }
  for (size_t k = 1; k < kernels.size(); ++k) {
    std::printf("%s / %s: best x%.2f, mean x%.2f\n", attention_kernel_name(kernels[0]), attention_kernel_name(kernels[k]),
                best[0] / best[k], total[0] / total[k]);
  }
  return evicted == -1 ? 1 : 0;  // keeps the eviction reads live
}
