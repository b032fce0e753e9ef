// Where the backend gets its weights: by Hugging Face name, as typed bytes.
// The mapped set reads a TensorStore (the checkpoint's mmap); a ZeRO-3
// group will hand out buffers it gathered from the ranks' shards instead, so
// the backend never assumes it owns whole weights at load.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "model/tensor_store.h"

namespace llmbatch {

struct WeightView {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::span<const uint8_t> bytes;
};

class WeightSet {
 public:
  virtual ~WeightSet() = default;
  // Throws ModelFormatError when the tensor is absent.
  virtual WeightView get(const std::string& name) const = 0;
};

class MappedWeightSet : public WeightSet {
 public:
  explicit MappedWeightSet(const TensorStore& store) : store_(store) {}
  WeightView get(const std::string& name) const override;

 private:
  const TensorStore& store_;
};

}  // namespace llmbatch
