#include "model/model_summary.h"

#include "model/weight_layout.h"

namespace llmbatch {

ModelSummary model_summary(const ModelDir& model) {
  ModelSummary s;
  s.parameters = parameter_count(model.config);
  for (const auto* t : model.tensors.tensors()) {
    s.bytes_by_dtype[std::string(dtype_name(t->dtype))] += t->nbytes;
    s.stored_bytes += t->nbytes;
    ++s.num_tensors;
  }
  s.num_files = model.tensors.num_files();
  s.kv_bytes_per_token_bf16 = model.config.kv_bytes_per_token(DType::BF16);
  s.kv_bytes_per_token_f32 = model.config.kv_bytes_per_token(DType::F32);
  return s;
}

}  // namespace llmbatch
