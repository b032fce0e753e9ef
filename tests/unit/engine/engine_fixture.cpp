#include "engine_fixture.h"

#include <algorithm>

#include "../backend/model_fixture.h"

namespace llmbatch::testing {

EngineRun run_requests(const ModelDir& model, const EngineSetup& setup, const std::vector<EngineRequest>& requests) {
  BackendOptions options;
  options.kv_dtype = setup.kv_dtype;
  options.block_size = setup.block_size;
  options.num_blocks = setup.num_blocks;
  options.max_model_len = setup.max_model_len;
  options.threads = 1;  // tiny models: threads would only add synchronisation
  const auto backend = make_cpu_backend(model.config, MappedWeightSet(model.tensors), options);
  KvCache cache({.block_size = setup.block_size, .num_blocks = setup.num_blocks, .prefix_caching = setup.prefix_caching});
  EngineOptions engine_options;
  engine_options.scheduler = {.policy = setup.policy,
                              .max_num_seqs = setup.max_num_seqs,
                              .max_num_batched_tokens = setup.max_num_batched_tokens,
                              .admission_headroom_tokens = setup.admission_headroom_tokens};
  engine_options.max_model_len = setup.max_model_len;
  engine_options.vocab_size = model.config.vocab_size;
  engine_options.eos_ids = setup.eos_ids;
  engine_options.tokenizer = setup.tokenizer;
  llmbatch::Engine engine(*backend, cache, engine_options);
  for (const auto& r : requests) engine.add(r);

  EngineRun run;
  while (engine.step()) {
    run.max_blocks_used = std::max(run.max_blocks_used, cache.stats().blocks_used);
    for (auto& row : engine.take_finished()) run.rows.push_back(std::move(row));
  }
  for (auto& row : engine.take_finished()) run.rows.push_back(std::move(row));
  std::sort(run.rows.begin(), run.rows.end(),
            [](const ResultRow& a, const ResultRow& b) { return std::pair(a.index, a.sample) < std::pair(b.index, b.sample); });
  run.counters = engine.counters();
  run.preemptions = engine.scheduler().num_preemptions();
  return run;
}

std::vector<EngineRequest> random_requests(int64_t count, int64_t vocab, const SamplingParams& sampling,
                                           int64_t max_prompt, uint32_t seed) {
  std::vector<EngineRequest> requests;
  for (int64_t i = 0; i < count; ++i) {
    EngineRequest r;
    r.key = static_cast<uint64_t>(i);
    r.id = "r" + std::to_string(i);
    const int64_t len = 1 + (i * 37 + 5) % max_prompt;
    r.prompt = random_tokens(len, vocab, seed + static_cast<uint32_t>(i));
    r.sampling = sampling;
    requests.push_back(std::move(r));
  }
  return requests;
}

}  // namespace llmbatch::testing
