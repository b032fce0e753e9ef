#include "io/record.h"

#include <gtest/gtest.h>

#include <set>

namespace llmbatch {
namespace {

TEST(RecordNames, StatusNamesAreTheStoredStrings) {
  EXPECT_EQ(record_status_name(RecordStatus::kOk), "ok");
  EXPECT_EQ(record_status_name(RecordStatus::kError), "error");
}

TEST(RecordNames, FinishReasonsAreDistinctAndNoneIsEmpty) {
  EXPECT_EQ(finish_reason_name(FinishReason::kNone), "");
  const std::set<std::string_view> names = {finish_reason_name(FinishReason::kStop),
                                            finish_reason_name(FinishReason::kLength),
                                            finish_reason_name(FinishReason::kEos)};
  EXPECT_EQ(names, (std::set<std::string_view>{"stop", "length", "eos"}));
}

}  // namespace
}  // namespace llmbatch
