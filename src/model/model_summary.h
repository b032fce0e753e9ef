// The figures `llmbatch inspect` reports about an opened model.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "model/model_dir.h"

namespace llmbatch {

struct ModelSummary {
  int64_t parameters = 0;                    // tied embeddings counted once
  std::map<std::string, uint64_t> bytes_by_dtype;  // "BF16" -> bytes stored
  uint64_t stored_bytes = 0;
  size_t num_tensors = 0;
  size_t num_files = 0;
  int64_t kv_bytes_per_token_bf16 = 0;
  int64_t kv_bytes_per_token_f32 = 0;
};

ModelSummary model_summary(const ModelDir& model);

}  // namespace llmbatch
