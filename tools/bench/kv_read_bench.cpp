// Memory micro-benchmark (not a test): how fast two threads read a paged KV
// cache (smollm135m's: 3 KV heads × 2 KiB per block), walking 32-block
// sequences in tiles of 4 blocks, with 4 KiB pages or huge pages. Three
// access patterns:
//   one head      one KV head's 2 KiB run of each block, K and V in separate
//                 arrays (attention items of one KV head);
//   all heads     every head's run of each block, one after the other (items
//                 of every KV head: 6 KiB of K and 6 KiB of V per block);
//   K and V adjacent  the same with a block's V right after its K, as
//                 KvStorage lays them out (12 KiB per block).
// Only loads: the ceiling attention can reach for each choice.
//
//   bench_kv_read [--mib 512] [--threads 2]
#include <omp.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <random>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/anonymous_memory.h"

using namespace llmbatch;

namespace {

constexpr size_t kRun = 2048, kHeads = 3, kBlock = kRun * kHeads, kBlocksPerSequence = 32, kTileBlocks = 4;

// `heads` heads' runs of each block of each tile, K then V; with
// `block_stride` = 2 × kBlock, K and V of a block are adjacent (v = k + kBlock).
uint64_t sum_runs(const uint8_t* k, const uint8_t* v, const std::vector<size_t>& ids, size_t heads,
                  size_t block_stride) {
  uint64_t total = 0;
  const size_t sequences = ids.size() / kBlocksPerSequence;
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : total)
  for (size_t s = 0; s < sequences; ++s) {
    uint64_t sum = 0;  // a local: the reduction variable would make every add a store
    for (size_t t = 0; t < kBlocksPerSequence; t += kTileBlocks) {
      const size_t* tile = &ids[s * kBlocksPerSequence + t];
      for (const uint8_t* cache : {k, v}) {
        for (size_t b = 0; b < kTileBlocks; ++b) {
          for (size_t h = 0; h < heads; ++h) {
            const auto* run = reinterpret_cast<const uint64_t*>(cache + tile[b] * block_stride + h * kRun);
            for (size_t i = 0; i < kRun / sizeof(uint64_t); ++i) sum += run[i];
          }
        }
      }
    }
    total += sum;
  }
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"paged KV read-bandwidth micro-benchmark"};
  size_t mib = 512;
  int threads = 2;
  app.add_option("--mib", mib, "size of each of K and V")->check(CLI::PositiveNumber);
  app.add_option("--threads", threads)->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  omp_set_num_threads(threads);

  const size_t blocks = (mib << 20) / kBlock / kBlocksPerSequence * kBlocksPerSequence;
  std::vector<size_t> ids(blocks);
  std::iota(ids.begin(), ids.end(), 0);
  std::shuffle(ids.begin(), ids.end(), std::mt19937(1));  // a long-running pool's order
  uint64_t sink = 0;
  for (const bool huge : {false, true}) {
    AnonymousMemory k(blocks * kBlock, "K"), v(blocks * kBlock, "V"), kv(2 * blocks * kBlock, "K and V");
    for (auto* m : {&k, &v, &kv}) {
      if (!huge) madvise(m->data(), m->size(), MADV_NOHUGEPAGE);  // take the advice back: 4 KiB pages
      std::fill_n(m->data(), m->size(), uint8_t{1});
    }
    struct Pattern {
      const char* name;
      const uint8_t *k, *v;
      size_t heads, block_stride;
    };
    const Pattern patterns[] = {
        {"one head   (2 KiB runs)", k.data(), v.data(), 1, kBlock},
        {"all heads  (6 KiB per block of K, of V)", k.data(), v.data(), kHeads, kBlock},
        {"all heads, K and V of a block adjacent (12 KiB)", kv.data(), kv.data() + kBlock, kHeads, 2 * kBlock},
    };
    for (const auto& p : patterns) {
      double best = 1e30;
      for (int pass = 0; pass < 5; ++pass) {
        const auto start = std::chrono::steady_clock::now();
        sink += sum_runs(p.k, p.v, ids, p.heads, p.block_stride);
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      }
      const double bytes = 2.0 * blocks * p.heads * kRun;
      std::printf("%-5s pages, %-48s: %.1f GB/s\n", huge ? "huge" : "4 KiB", p.name, bytes / best / 1e9);
    }
  }
  return sink == 42 ? 1 : 0;  // keeps the sums live
}
