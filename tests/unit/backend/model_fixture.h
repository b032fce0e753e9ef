// Test helpers: a random model on disk, a CPU backend over it with its KV
// bookkeeping, and runs of whole sequences through them in chunks.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/cpu/cpu_model.h"
#include "kv/kv_cache.h"
#include "model/model_dir.h"
#include "model/random_model.h"

namespace llmbatch::testing {

// A random-weight model written to a fresh temp dir, removed on destruction.
class RandomModelDir {
 public:
  explicit RandomModelDir(RandomModelOptions options);
  ~RandomModelDir();
  const ModelDir& model() const { return *model_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::unique_ptr<ModelDir> model_;
};

// The tiny preset at init_std 0.1 (attention far from uniform).
RandomModelOptions tiny_options(DType dtype, uint64_t seed = 3);

// A backend plus the KvCache bookkeeping that feeds it.
struct Engine {
  Engine(const ModelDir& model, BackendOptions options, bool prefix_caching = false);
  BackendOptions options;
  std::unique_ptr<KvCache> cache;
  std::unique_ptr<Backend> backend;
};

// One sequence's request in a step: `tokens` are its new tokens.
struct SeqRun {
  SeqId seq;
  std::vector<TokenId> tokens;
  bool all_logits = true;  // else only the last token's
};

// Runs one step over several sequences (adding new ones to the cache, with
// an optional prefix hit for new ones), returns logits per sequence:
// [its logit rows][vocab].
std::vector<std::vector<std::vector<float>>> run_step(Engine& engine, const std::vector<SeqRun>& runs,
                                                      bool use_prefix_cache = false);

// Prefills `tokens` as sequence `seq` in chunks of `chunk` tokens (0: all
// at once), returning the logits at every position.
std::vector<std::vector<float>> run_sequence(Engine& engine, SeqId seq, const std::vector<TokenId>& tokens,
                                             int64_t chunk = 0);

std::vector<TokenId> random_tokens(int64_t n, int64_t vocab, uint32_t seed);

}  // namespace llmbatch::testing
