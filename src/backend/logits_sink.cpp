#include "backend/logits_sink.h"

#include <algorithm>

#include "core/error.h"

namespace llmbatch {

void LogitsBuffer::consume(int64_t index, std::span<const float> logits) {
  if (vocab_ == 0) vocab_ = static_cast<int64_t>(logits.size());
  LLMBATCH_CHECK(static_cast<int64_t>(logits.size()) == vocab_, "logit rows of different widths");
  rows_ = std::max(rows_, index + 1);
  if (static_cast<int64_t>(data_.size()) < rows_ * vocab_) data_.resize(rows_ * vocab_);
  std::copy(logits.begin(), logits.end(), data_.begin() + index * vocab_);
}

}  // namespace llmbatch
