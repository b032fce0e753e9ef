// The Hugging Face transformers fixtures of tests/fixtures/forward
// (tools/make-forward-fixtures.sh): token sequences, model recipes, and the
// log-probabilities transformers computed for a subset of positions. Models
// are not stored: a recipe is replayed through random_model_write, and a
// checksum of the tensor bytes proves the replay is the model transformers saw.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/dtype.h"
#include "model/tensor_store.h"
#include "reference/naive_forward.h"

namespace llmbatch::reference {

struct FixtureRow {
  size_t sequence = 0;   // index into ForwardFixtures::sequences
  int64_t position = 0;  // the row predicts token position + 1
};

struct FixtureModel {
  std::string name;
  DType weights_dtype = DType::F32;
  nlohmann::json recipe;         // {preset, dtype, seed, init_std, arch, num_kv_heads, config_edit}
  std::string weights_fnv1a64;   // 16 hex digits
  std::vector<FixtureRow> rows;
  std::vector<float> logprobs;   // [rows.size(), vocab_size]
};

struct ForwardFixtures {
  int64_t vocab_size = 0;
  std::vector<std::vector<int64_t>> sequences;
  std::vector<FixtureModel> models;

  // Throws InternalError naming the known models when `name` is absent.
  const FixtureModel& model(const std::string& name) const;
};

// Reads `dir`/forward.json and each model's float32 little-endian logprobs.
// Throws IoError / ModelFormatError for a missing or inconsistent file.
ForwardFixtures forward_fixtures_load(const std::string& dir);

// Writes the model of `model.recipe` into `out_dir` as the fixture script
// did: random_model_write, then the recipe's config.json edit.
void fixture_model_write(const FixtureModel& model, const std::string& out_dir);

// FNV-1a 64 over (name bytes, data bytes) of every tensor in name order, as
// 16 hex digits; the fixture script computes the same from the file.
std::string weights_fnv1a64(const TensorStore& store);

struct FixtureComparison {
  double max_abs_diff = 0.0;     // max |reference - transformers| over every stored logprob
  size_t argmax_mismatches = 0;  // stored rows whose greedy token differs
  size_t rows = 0;
};

// Runs `model` on every fixture sequence and compares it at the stored rows.
FixtureComparison fixture_compare(const ReferenceModel& model, const ForwardFixtures& fixtures,
                                  const FixtureModel& expected);

}  // namespace llmbatch::reference
