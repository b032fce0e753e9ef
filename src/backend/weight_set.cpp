#include "backend/weight_set.h"

namespace llmbatch {

WeightView MappedWeightSet::get(const std::string& name) const {
  const TensorInfo& info = store_.get(name);
  return {info.dtype, info.shape, store_.bytes(name)};
}

}  // namespace llmbatch
