#include "backend/logits_sink.h"

#include <filesystem>
#include <vector>

#include <gtest/gtest.h>

#include "backend/weight_set.h"
#include "core/error.h"
#include "model_fixture.h"

namespace llmbatch {
namespace {

TEST(LogitsBufferTest, KeepsRowsByIndex) {
  LogitsBuffer buffer;
  const std::vector<float> a = {1, 2, 3}, b = {4, 5, 6};
  buffer.consume(1, b);
  buffer.consume(0, a);
  EXPECT_EQ(buffer.rows(), 2);
  EXPECT_EQ(buffer.vocab(), 3);
  EXPECT_EQ(std::vector<float>(buffer.row(0).begin(), buffer.row(0).end()), a);
  EXPECT_EQ(std::vector<float>(buffer.row(1).begin(), buffer.row(1).end()), b);
  const std::vector<float> wrong = {1, 2};
  EXPECT_THROW(buffer.consume(2, wrong), InternalError);
  buffer.clear();
  EXPECT_EQ(buffer.rows(), 0);
}

TEST(MappedWeightSetTest, HandsOutTheStoredBytes) {
  const testing::RandomModelDir dir(testing::tiny_options(DType::BF16));
  const MappedWeightSet weights(dir.model().tensors);
  const WeightView w = weights.get("model.norm.weight");
  EXPECT_EQ(w.dtype, DType::BF16);
  EXPECT_EQ(w.shape, (std::vector<int64_t>{64}));
  EXPECT_EQ(w.bytes.data(), dir.model().tensors.bytes("model.norm.weight").data());
  EXPECT_THROW(weights.get("no.such.tensor"), ModelFormatError);
}

}  // namespace
}  // namespace llmbatch
