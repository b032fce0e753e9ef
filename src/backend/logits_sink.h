// Where a forward pass delivers logits. The LM head runs over the wanted
// rows in chunks of kLogitsChunkRows and hands each row to the sink, so a
// consumer that reduces a row at once (score mode: one logprob and a top-k)
// never holds [tokens × vocab].
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace llmbatch {

constexpr int64_t kLogitsChunkRows = 64;

class LogitsSink {
 public:
  virtual ~LogitsSink() = default;
  // `index` is the position of the row in StepBatch::logit_rows;
  // `logits` is [vocab] f32, valid only during the call.
  virtual void consume(int64_t index, std::span<const float> logits) = 0;
};

// Keeps every row: [rows, vocab]. For generation, where rows are few.
class LogitsBuffer : public LogitsSink {
 public:
  void consume(int64_t index, std::span<const float> logits) override;
  void clear() { data_.clear(); vocab_ = 0; rows_ = 0; }

  int64_t rows() const { return rows_; }
  int64_t vocab() const { return vocab_; }
  std::span<const float> row(int64_t index) const { return {data_.data() + index * vocab_, static_cast<size_t>(vocab_)}; }

 private:
  std::vector<float> data_;
  int64_t vocab_ = 0;
  int64_t rows_ = 0;
};

}  // namespace llmbatch
