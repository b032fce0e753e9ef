// A Hugging Face model directory opened and validated: config.json,
// generation_config.json (optional) and the safetensors weights. Opening
// checks everything a forward pass would trip over later, so a bad model is
// reported at start-up, in one message, not hours into a job.
#pragma once

#include <string>

#include "model/generation_config.h"
#include "model/model_config.h"
#include "model/tensor_store.h"

namespace llmbatch {

struct ModelDir {
  std::string path;
  ModelConfig config;
  GenerationConfig generation;
  TensorStore tensors;
};

ModelDir model_dir_open(const std::string& path);

}  // namespace llmbatch
