// Runs a workload through an Engine and measures it: throughput, step
// latency, KV waste, prefix hits, preemptions. `llmbatch bench` prints the
// report; --compare static runs a second engine over the same backend.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "engine/engine.h"

namespace llmbatch {

struct BenchReport {
  std::string policy;  // "continuous" or "static"
  int64_t requests = 0;
  int64_t steps = 0;
  double wall_seconds = 0.0;
  int64_t prompt_tokens = 0;     // prompt tokens of the requests
  int64_t generated_tokens = 0;  // sampled tokens
  int64_t computed_tokens = 0;   // tokens through the model, recomputation included
  double step_p50_ms = 0.0;
  double step_p99_ms = 0.0;
  int64_t max_batch_sequences = 0;
  // Allocated KV slots holding no token, averaged over steps weighted by the
  // slots allocated: blocks in use for the continuous policy, the batch's
  // reservation for the static one.
  double kv_waste = 0.0;
  double prefix_hit_rate = 0.0;
  int64_t preemptions = 0;
  int64_t errors = 0;

  double total_tokens_per_second() const { return (prompt_tokens + generated_tokens) / wall_seconds; }
  double generated_tokens_per_second() const { return generated_tokens / wall_seconds; }
  double prompt_tokens_per_second() const { return prompt_tokens / wall_seconds; }
};

// A fresh KvCache (`kv`) and Engine over `backend`, every request added at
// once, stepped until done. The backend's KV storage must match `kv`.
BenchReport run_bench(Backend& backend, const KvCacheConfig& kv, const EngineOptions& options,
                      const std::vector<EngineRequest>& requests);

// The value at fraction q (0..1) of `values` (nearest rank); 0 when empty.
double percentile(std::vector<double> values, double q);

}  // namespace llmbatch
