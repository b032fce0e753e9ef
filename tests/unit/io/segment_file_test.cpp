#include "io/segment_file.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "io/hdf5_column.h"
#include "segment_test_rows.h"

namespace llmbatch {
namespace {

using testing::expect_row_eq;
using testing::make_record_rows;
using testing::TempDir;

std::vector<ResultRow> rows_for(int64_t first, int64_t last) {
  std::vector<ResultRow> rows;
  for (int64_t i = first; i < last; ++i) {
    for (ResultRow& r : make_record_rows(i)) rows.push_back(std::move(r));
  }
  return rows;
}

ResultColumns columns_of(const std::vector<ResultRow>& rows, bool tokens = true, bool text = true) {
  ResultColumns c{.has_tokens = tokens, .has_text = text};
  for (const auto& r : rows) c.append(r);
  return c;
}

TEST(SegmentFile, RowsOfEveryKindRoundTripThroughSeveralAppends) {
  TempDir dir("segfile");
  const std::string path = dir.file("s.h5");
  const auto a = rows_for(0, 9), b = rows_for(9, 20);
  {
    SegmentFileWriter w(path, true, true);
    w.append(columns_of(a));
    w.append(ResultColumns{});
    w.append(columns_of(b));
    w.finish({{"model_hash", "abc"}, {"llmbatch_version", "0.1.0"}}, 20);
  }
  const SegmentFileReader r(path);
  EXPECT_EQ(r.rows(), static_cast<int64_t>(a.size() + b.size()));
  EXPECT_TRUE(r.has_tokens());
  EXPECT_TRUE(r.has_text());
  EXPECT_EQ(r.num_records(), 20);
  EXPECT_EQ(r.attributes(), (std::map<std::string, std::string>{{"model_hash", "abc"}, {"llmbatch_version", "0.1.0"}}));
  auto all = a;
  all.insert(all.end(), b.begin(), b.end());
  const ResultColumns c = r.read(0, r.rows());
  for (size_t i = 0; i < all.size(); ++i) expect_row_eq(c.row(static_cast<int64_t>(i)), all[i]);
  // Any range, rebased.
  const ResultColumns mid = r.read(5, 17);
  for (int64_t i = 0; i < mid.rows(); ++i) expect_row_eq(mid.row(i), all[5 + i]);
  EXPECT_EQ(r.read(3, 3).rows(), 0);
  std::vector<int64_t> index;
  std::vector<int32_t> sample;
  for (const auto& row : all) {
    index.push_back(row.index);
    sample.push_back(row.sample);
  }
  EXPECT_EQ(r.read_index(), index);
  EXPECT_EQ(r.read_sample(), sample);
}

TEST(SegmentFile, WithoutTokensAndTextThoseGroupsAreAbsent) {
  TempDir dir("segfile");
  const std::string path = dir.file("s.h5");
  const auto rows = rows_for(0, 8);
  {
    SegmentFileWriter w(path, false, false);
    w.append(columns_of(rows, false, false));
    w.finish({}, std::nullopt);
  }
  const SegmentFileReader r(path);
  EXPECT_FALSE(r.has_tokens());
  EXPECT_FALSE(r.has_text());
  EXPECT_EQ(r.num_records(), std::nullopt);
  const H5Id file = h5_file_open_read(path);
  EXPECT_FALSE(h5_exists(file.get(), "tokens"));
  EXPECT_FALSE(h5_exists(file.get(), "text"));
  const ResultColumns c = r.read(0, r.rows());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(c.num_output_tokens[i], static_cast<int32_t>(rows[i].output_ids.size()));
    EXPECT_EQ(c.row(static_cast<int64_t>(i)).token_logprobs, rows[i].token_logprobs);
  }
}

TEST(SegmentFile, EmptyFileIsValid) {
  TempDir dir("segfile");
  const std::string path = dir.file("s.h5");
  SegmentFileWriter(path, true, true).finish({}, 0);
  const SegmentFileReader r(path);
  EXPECT_EQ(r.rows(), 0);
  EXPECT_EQ(r.read(0, 0).rows(), 0);
}

TEST(SegmentFile, ReservedAttributeNamesAreRefused) {
  TempDir dir("segfile");
  for (const char* name : {"num_rows", "num_records", "llmbatch_format", "llmbatch_format_version"}) {
    EXPECT_THROW(check_attribute_names({{"job_yaml", "x"}, {name, "3"}}), ConfigError) << name;
  }
  check_attribute_names({{"job_yaml", "x"}, {"model_hash", "y"}});
  SegmentFileWriter w(dir.file("s.h5"), true, true);
  EXPECT_THROW(w.finish({{"num_rows", "3"}}, std::nullopt), ConfigError);
}

TEST(SegmentFile, ForeignHdf5FilesAreRefused) {
  TempDir dir("segfile");
  const std::string path = dir.file("other.h5");
  { H5Id file = h5_file_create(path); }
  try {
    SegmentFileReader r(path);
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("not an llmbatch results file"), std::string::npos);
  }
}

TEST(SegmentFile, InconsistentOffsetsOnDiskAreIoErrors) {
  TempDir dir("segfile");
  const std::string path = dir.file("s.h5");
  ResultColumns c = columns_of(rows_for(0, 4));
  c.output_offsets.back() += 1;  // points past the stored ids
  {
    SegmentFileWriter w(path, true, true);
    w.append(c);
    w.finish({}, std::nullopt);
  }
  const SegmentFileReader r(path);
  EXPECT_THROW(r.read(0, r.rows()), IoError);
}

}  // namespace
}  // namespace llmbatch
