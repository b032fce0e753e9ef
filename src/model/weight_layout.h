// Which tensors a Llama-family checkpoint must hold, under their Hugging
// Face names and shapes, and the check of a TensorStore against that list.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/model_config.h"
#include "model/tensor_store.h"

namespace llmbatch {

struct ExpectedTensor {
  std::string name;
  std::vector<int64_t> shape;
  bool required = true;  // optional: lm_head.weight of a tied model
};

// Names of one decoder layer's tensors, e.g. "model.layers.3.mlp.up_proj.weight".
std::string layer_tensor_name(int64_t layer, const std::string& suffix);

// Every tensor `config` implies, in checkpoint order: embeddings, layers,
// final norm, LM head.
std::vector<ExpectedTensor> expected_tensors(const ModelConfig& config);

// Checks `store` against expected_tensors(config). Reports every missing,
// unexpected and mis-shaped tensor in one ModelFormatError. `dir` names the
// model in the message.
void validate_tensors(const ModelConfig& config, const TensorStore& store, const std::string& dir);

// Parameters the model computes with; tied embeddings count once.
int64_t parameter_count(const ModelConfig& config);

}  // namespace llmbatch
