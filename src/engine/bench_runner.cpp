#include "engine/bench_runner.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace llmbatch {

double percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

BenchReport run_bench(Backend& backend, const KvCacheConfig& kv, const EngineOptions& options,
                      const std::vector<EngineRequest>& requests) {
  using Clock = std::chrono::steady_clock;
  KvCache cache(kv);
  Engine engine(backend, cache, options);
  BenchReport report;
  report.policy = options.scheduler.policy == SchedulerPolicy::kStatic ? "static" : "continuous";
  report.requests = static_cast<int64_t>(requests.size());

  std::vector<double> step_ms;
  double empty_slot_steps = 0.0, allocated_slot_steps = 0.0;
  const auto start = Clock::now();
  for (const auto& r : requests) engine.add(r);
  for (;;) {
    const auto before = Clock::now();
    const auto info = engine.step();
    if (!info) break;
    step_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - before).count());
    report.max_batch_sequences = std::max(report.max_batch_sequences, info->num_sequences);
    // Waste as the step ran, before finished sequences gave their blocks back.
    const KvStats stats = cache.stats();
    const int64_t reserved = engine.scheduler().reserved_blocks();
    const double allocated = static_cast<double>((reserved > 0 ? reserved : stats.blocks_used) * stats.block_size);
    allocated_slot_steps += allocated;
    empty_slot_steps += allocated - static_cast<double>(stats.tokens_stored);
    for (const auto& row : engine.take_finished()) report.errors += row.status == RecordStatus::kError;
  }
  report.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (const auto& row : engine.take_finished()) report.errors += row.status == RecordStatus::kError;

  const EngineCounters& c = engine.counters();
  report.steps = c.steps;
  report.prompt_tokens = c.prompt_tokens;
  report.generated_tokens = c.generated_tokens;
  report.computed_tokens = c.computed_tokens;
  report.step_p50_ms = percentile(step_ms, 0.50);
  report.step_p99_ms = percentile(step_ms, 0.99);
  report.kv_waste = allocated_slot_steps > 0.0 ? empty_slot_steps / allocated_slot_steps : 0.0;
  report.prefix_hit_rate = cache.stats().prefix_hit_rate();
  report.preemptions = engine.scheduler().num_preemptions();
  return report;
}

}  // namespace llmbatch
