// Memory micro-benchmark (not a test): how fast two threads read a paged KV
// cache laid out as the engine lays it out (smollm135m: 3 KV heads × 2 KiB
// per block, K and V in separate arrays), walking 32-block sequences in
// tiles of 4 blocks, with 4 KiB pages or huge pages. Two access patterns:
//   one head   one KV head's 2 KiB run of each block (attention items of
//              one KV head);
//   all heads  every head's run of each block, one after the other (items
//              of every KV head: 6 KiB contiguous per block).
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

uint64_t sum_runs(const uint8_t* k, const uint8_t* v, const std::vector<size_t>& ids, size_t heads) {
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
            const auto* run = reinterpret_cast<const uint64_t*>(cache + tile[b] * kBlock + h * kRun);
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
    AnonymousMemory k(blocks * kBlock, "K"), v(blocks * kBlock, "V");
    if (!huge) {  // take the advice back: 4 KiB pages
      madvise(k.data(), k.size(), MADV_NOHUGEPAGE);
      madvise(v.data(), v.size(), MADV_NOHUGEPAGE);
    }
    std::fill_n(k.data(), k.size(), uint8_t{1});
    std::fill_n(v.data(), v.size(), uint8_t{1});
    for (const size_t heads : {size_t{1}, kHeads}) {
      double best = 1e30;
      for (int pass = 0; pass < 5; ++pass) {
        const auto start = std::chrono::steady_clock::now();
        sink += sum_runs(k.data(), v.data(), ids, heads);
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      }
      const double bytes = 2.0 * blocks * heads * kRun;
      std::printf("%-10s pages, %-9s (%zu KiB per block): %.1f GB/s\n", huge ? "huge" : "4 KiB",
                  heads == 1 ? "one head" : "all heads", heads * kRun / 1024, bytes / best / 1e9);
    }
  }
  return sink == 42 ? 1 : 0;  // keeps the sums live
}
