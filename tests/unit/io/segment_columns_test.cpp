#include "io/segment_columns.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "segment_test_rows.h"

namespace llmbatch {
namespace {

using testing::expect_row_eq;
using testing::make_record_rows;
using testing::make_row;
using testing::RowKind;

std::vector<ResultRow> every_kind() {
  std::vector<ResultRow> rows;
  for (int64_t i = 0; i < 2 * testing::kNumRowKinds; ++i) {
    for (ResultRow& r : make_record_rows(i, 3)) rows.push_back(std::move(r));
  }
  return rows;
}

TEST(ResultColumns, RowsOfEveryKindComeBackUnchanged) {
  const auto rows = every_kind();
  ResultColumns c;
  for (const auto& r : rows) c.append(r);
  c.validate("mem");
  ASSERT_EQ(c.rows(), static_cast<int64_t>(rows.size()));
  for (size_t i = 0; i < rows.size(); ++i) expect_row_eq(c.row(static_cast<int64_t>(i)), rows[i]);
}

TEST(ResultColumns, CsrLayoutOfOneRow) {
  ResultColumns c;
  c.append(make_row(5, 1, RowKind::kGenerateLogprobs));  // 4 output tokens, 2 alternatives each
  EXPECT_EQ(c.output_offsets, (std::vector<int64_t>{0, 4}));
  EXPECT_EQ(c.prompt_offsets, (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(c.logprob_offsets, (std::vector<int64_t>{0, 4}));
  EXPECT_EQ(c.topk_offsets, (std::vector<int64_t>{0, 2, 4, 6, 8}));
  EXPECT_EQ(c.status, std::vector<std::string>{"ok"});
  EXPECT_EQ(c.finish_reason, std::vector<std::string>{"length"});
  EXPECT_EQ(c.num_output_tokens, std::vector<int32_t>{4});
  c.append(make_row(6, 0, RowKind::kGeneratePlain));  // no logprobs: an empty range
  EXPECT_EQ(c.logprob_offsets, (std::vector<int64_t>{0, 4, 4}));
}

TEST(ResultColumns, AppendingColumnsEqualsAppendingTheirRows) {
  const auto rows = every_kind();
  ResultColumns whole, first, second;
  for (size_t i = 0; i < rows.size(); ++i) {
    whole.append(rows[i]);
    (i < 7 ? first : second).append(rows[i]);
  }
  first.append(second);
  first.validate("mem");
  ASSERT_EQ(first.rows(), whole.rows());
  for (int64_t r = 0; r < whole.rows(); ++r) expect_row_eq(first.row(r), whole.row(r));
  EXPECT_EQ(first.topk_offsets, whole.topk_offsets);
  EXPECT_EQ(first.prompt_logprob_offsets, whole.prompt_logprob_offsets);
}

TEST(ResultColumns, WithoutTokensOrTextThoseFieldsAreEmptyButCountsRemain) {
  ResultColumns c{.has_tokens = false, .has_text = false};
  const ResultRow row = make_row(3, 0, RowKind::kGenerateLogprobs);
  c.append(row);
  c.validate("mem");
  EXPECT_EQ(c.num_output_tokens[0], 3);
  EXPECT_EQ(c.num_prompt_tokens[0], 3);
  const ResultRow back = c.row(0);
  EXPECT_TRUE(back.output_ids.empty());
  EXPECT_TRUE(back.text.empty());
  EXPECT_EQ(back.token_logprobs, row.token_logprobs);
}

TEST(ResultColumns, RowsBreakingInvariantsAreInternalErrors) {
  ResultRow row = make_row(0, 0, RowKind::kGeneratePlain);
  row.token_logprobs = {-1.0f};  // 4 output tokens
  ResultColumns c;
  EXPECT_THROW(c.append(row), InternalError);
  row.token_logprobs.clear();
  row.top_logprobs = {{}, {}, {}, {}};  // alternatives without logprobs
  EXPECT_THROW(c.append(row), InternalError);
}

TEST(ResultColumns, ValidateRejectsInconsistentArrays) {
  ResultColumns c;
  c.append(make_row(0, 0, RowKind::kGenerateLogprobs));
  c.append(make_row(1, 0, RowKind::kScoreText));
  ResultColumns bad = c;
  bad.output_ids.pop_back();
  EXPECT_THROW(bad.validate("f.h5"), IoError);
  bad = c;
  bad.topk_offsets[1] = 5;  // decreasing
  EXPECT_THROW(bad.validate("f.h5"), IoError);
  bad = c;
  bad.id.pop_back();
  EXPECT_THROW(bad.validate("f.h5"), IoError);
  bad = c;
  bad.num_output_tokens[0] = 2;
  EXPECT_THROW(bad.validate("f.h5"), IoError);
  bad = c;
  bad.status[1] = "maybe";
  EXPECT_THROW(bad.row(1), IoError);
  bad = c;
  bad.finish_reason[0] = "tired";
  EXPECT_THROW(bad.row(0), IoError);
}

}  // namespace
}  // namespace llmbatch
