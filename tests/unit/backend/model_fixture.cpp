#include "model_fixture.h"

#include <random>

#include <gtest/gtest.h>

namespace llmbatch::testing {

namespace fs = std::filesystem;

RandomModelDir::RandomModelDir(RandomModelOptions options) {
  static int counter = 0;
  path_ = (fs::temp_directory_path() /
           ("llmbatch_backend_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++)))
              .string();
  fs::remove_all(path_);
  random_model_write(options, path_);
  model_ = std::make_unique<ModelDir>(model_dir_open(path_));
}

RandomModelDir::~RandomModelDir() {
  model_.reset();
  fs::remove_all(path_);
}

RandomModelOptions tiny_options(DType dtype, uint64_t seed) {
  RandomModelOptions o;
  o.config = random_preset_config("tiny");
  o.config.torch_dtype = dtype;
  o.seed = seed;
  o.init_std = 0.1;
  return o;
}

Engine::Engine(const ModelDir& model, BackendOptions opts, bool prefix_caching) : options(opts) {
  KvCacheConfig kv;
  kv.block_size = opts.block_size;
  kv.num_blocks = opts.num_blocks;
  kv.prefix_caching = prefix_caching;
  cache = std::make_unique<KvCache>(kv);
  backend = make_cpu_backend(model.config, MappedWeightSet(model.tensors), opts);
}

std::vector<std::vector<std::vector<float>>> run_step(Engine& engine, const std::vector<SeqRun>& runs,
                                                      bool use_prefix_cache) {
  StepBatch batch;
  std::vector<int64_t> first_logit(runs.size());
  std::vector<std::vector<TokenId>> computed(runs.size());
  for (size_t i = 0; i < runs.size(); ++i) {
    const auto& r = runs[i];
    std::vector<TokenId> tokens = r.tokens;
    int64_t start = 0;
    if (!engine.cache->has_sequence(r.seq)) {
      PrefixHit hit;
      if (use_prefix_cache) hit = engine.cache->match_prefix(tokens);
      EXPECT_TRUE(engine.cache->add_sequence(r.seq, tokens, hit));
      start = hit.num_tokens;
      tokens.erase(tokens.begin(), tokens.begin() + start);
    } else {
      start = engine.cache->num_tokens(r.seq);
      EXPECT_TRUE(engine.cache->append(r.seq, tokens, &batch.copies));
    }
    const int64_t first = batch.num_tokens();
    batch.token_ids.insert(batch.token_ids.end(), tokens.begin(), tokens.end());
    batch.sequences.push_back({first, static_cast<int64_t>(tokens.size()), start, engine.cache->block_table(r.seq)});
    first_logit[i] = static_cast<int64_t>(batch.logit_rows.size());
    const int64_t n = static_cast<int64_t>(tokens.size());
    for (int64_t t = r.all_logits ? 0 : n - 1; t < n; ++t) batch.logit_rows.push_back(first + t);
  }
  LogitsBuffer logits;
  engine.backend->forward(batch, logits);
  std::vector<std::vector<std::vector<float>>> out(runs.size());
  for (size_t i = 0; i < runs.size(); ++i) {
    const int64_t end = i + 1 < runs.size() ? first_logit[i + 1] : static_cast<int64_t>(batch.logit_rows.size());
    for (int64_t r = first_logit[i]; r < end; ++r) {
      const auto row = logits.row(r);
      out[i].emplace_back(row.begin(), row.end());
    }
    engine.cache->mark_computed(runs[i].seq, engine.cache->num_tokens(runs[i].seq));
  }
  return out;
}

std::vector<std::vector<float>> run_sequence(Engine& engine, SeqId seq, const std::vector<TokenId>& tokens,
                                             int64_t chunk) {
  std::vector<std::vector<float>> out;
  const int64_t n = static_cast<int64_t>(tokens.size());
  const int64_t step = chunk > 0 ? chunk : n;
  for (int64_t begin = 0; begin < n; begin += step) {
    const int64_t end = std::min(n, begin + step);
    auto rows = run_step(engine, {{seq, {tokens.begin() + begin, tokens.begin() + end}}})[0];
    out.insert(out.end(), rows.begin(), rows.end());
  }
  return out;
}

std::vector<TokenId> random_tokens(int64_t n, int64_t vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<TokenId> dist(0, static_cast<TokenId>(vocab - 1));
  std::vector<TokenId> out(n);
  for (auto& t : out) t = dist(rng);
  return out;
}

}  // namespace llmbatch::testing
