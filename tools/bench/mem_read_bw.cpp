// Sustained memory read bandwidth (GB/s) with N threads: each thread sums its
// slice of a buffer far larger than the caches; best of several passes. The
// memory-bandwidth bound of batch-1 decode in tools/bench/engine.sh divides
// this by the bytes one token reads. The buffer is AnonymousMemory, in huge
// pages like the packed weights, so the bound is not lowered by 4 KiB pages.
//   mem_read_bw [THREADS] [MiB]
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "core/anonymous_memory.h"

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const size_t mib = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1024;
  const size_t n = mib * 1024 * 1024 / sizeof(uint64_t);
  llmbatch::AnonymousMemory memory(n * sizeof(uint64_t), "the read buffer");
  auto* const buffer = reinterpret_cast<uint64_t*>(memory.data());
#pragma omp parallel for num_threads(threads)
  for (size_t i = 0; i < n; ++i) buffer[i] = i;  // touch pages on the thread that reads them
  double best = 0.0;
  uint64_t sink = 0;
  for (int pass = 0; pass < 8; ++pass) {
    const auto start = std::chrono::steady_clock::now();
    uint64_t sum = 0;
#pragma omp parallel for num_threads(threads) reduction(+ : sum)
    for (size_t i = 0; i < n; ++i) sum += buffer[i];
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    sink += sum;
    best = std::max(best, static_cast<double>(n * sizeof(uint64_t)) / s / 1e9);
  }
  std::printf("%.2f\n", best);
  return sink == 42 ? 1 : 0;  // keeps the sums live
}
