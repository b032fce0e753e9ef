#include "io/segment_writer.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/error.h"
#include "io/segment_file.h"
#include "io/segment_fs.h"
#include "io/segment_layout.h"
#include "segment_test_rows.h"

namespace llmbatch {
namespace {

namespace fs = std::filesystem;
using testing::expect_row_eq;
using testing::make_record_rows;
using testing::TempDir;

std::string segment_path(const std::string& out, const std::string& name) {
  return (fs::path(segments_dir(out)) / name).string();
}

TEST(SegmentWriter, CommitWritesCompletedUnitsSortedAndJournalsThem) {
  TempDir dir("segwriter");
  SegmentWriter w(dir.str(), 2, {.attributes = {{"model_hash", "m1"}}});
  EXPECT_EQ(w.commit(), std::nullopt);  // nothing completed: no file
  EXPECT_FALSE(fs::exists(journal_path(dir.str(), 2)));
  // Unit 5 holds records 10..11, unit 6 record 12; rows arrive out of order.
  std::vector<ResultRow> expected;
  for (int64_t index : {10, 11}) {
    for (auto& r : make_record_rows(index)) expected.push_back(r);
  }
  for (auto it = expected.rbegin(); it != expected.rend(); ++it) w.add_row(5, *it);
  w.add_row(6, make_record_rows(12)[0]);
  w.complete_unit(5);
  w.complete_unit(9);  // a unit with no rows
  EXPECT_THROW(w.add_row(5, make_record_rows(13)[0]), InternalError);
  EXPECT_EQ(w.pending_rows(), static_cast<int64_t>(expected.size()) + 1);

  const auto e = w.commit();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->segment, "seg-r2-0.h5");
  EXPECT_EQ(e->units, (std::vector<int64_t>{5, 9}));
  EXPECT_EQ(e->rows, static_cast<int64_t>(expected.size()));
  const std::string path = segment_path(dir.str(), e->segment);
  EXPECT_EQ(e->crc32, file_crc32(path));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  EXPECT_EQ(journal_read(journal_path(dir.str(), 2)), std::vector<JournalEntry>{*e});
  EXPECT_EQ(w.pending_rows(), 1);  // unit 6 is still in flight

  const SegmentFileReader r(path);
  EXPECT_EQ(r.attributes().at("model_hash"), "m1");
  const ResultColumns c = r.read(0, r.rows());
  ASSERT_EQ(c.rows(), static_cast<int64_t>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) expect_row_eq(c.row(static_cast<int64_t>(i)), expected[i]);

  w.complete_unit(6);
  EXPECT_EQ(w.commit()->segment, "seg-r2-1.h5");
  EXPECT_EQ(w.pending_rows(), 0);
}

TEST(SegmentWriter, OptionsLeaveOutTextAndTokenIds) {
  TempDir dir("segwriter");
  SegmentWriter w(dir.str(), 0, {.text = false, .token_ids = false});
  w.add_row(0, make_record_rows(0)[0]);
  w.complete_unit(0);
  const SegmentFileReader r(segment_path(dir.str(), w.commit()->segment));
  EXPECT_FALSE(r.has_text());
  EXPECT_FALSE(r.has_tokens());
}

TEST(SegmentWriter, ReopeningContinuesNumberingAndCutsATornJournalLine) {
  TempDir dir("segwriter");
  {
    SegmentWriter w(dir.str(), 0, {});
    w.complete_unit(0);
    w.commit();
  }
  // A crash left an orphan (renamed, not journaled), a temporary, and half a line.
  std::ofstream(segment_path(dir.str(), "seg-r0-1.h5")) << "orphan";
  std::ofstream(segment_path(dir.str(), "seg-r0-2.h5.tmp")) << "tmp";
  std::ofstream(journal_path(dir.str(), 0), std::ios::app) << "{\"segment\":\"seg-r0-1.h5\",\"un";
  SegmentWriter w(dir.str(), 0, {});
  EXPECT_EQ(w.next_segment_number(), 3);
  w.complete_unit(1);
  EXPECT_EQ(w.commit()->segment, "seg-r0-3.h5");
  bool torn = true;
  const auto entries = journal_read(journal_path(dir.str(), 0), &torn);
  EXPECT_FALSE(torn);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].units, std::vector<int64_t>{1});
}

TEST(SegmentWriter, FailedCommitKeepsTheRowsForALaterOne) {
  TempDir dir("segwriter");
  SegmentWriter w(dir.str(), 0, {});
  w.add_row(0, make_record_rows(0)[0]);
  w.complete_unit(0);
  fs::remove_all(segments_dir(dir.str()));  // the disk goes away
  EXPECT_THROW(w.commit(), IoError);
  EXPECT_EQ(w.pending_rows(), 1);
  EXPECT_EQ(w.completed_units(), 1);
  EXPECT_FALSE(fs::exists(journal_path(dir.str(), 0)));
  fs::create_directories(segments_dir(dir.str()));  // and comes back
  const auto e = w.commit();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->rows, 1);
  EXPECT_EQ(fs::directory_iterator(segments_dir(dir.str()))->path().filename(), e->segment);  // no temporary left
}

TEST(SegmentWriter, ReservedAttributeNamesAreRefusedUpFront) {
  TempDir dir("segwriter");
  EXPECT_THROW(SegmentWriter(dir.str(), 0, {.attributes = {{"num_rows", "reserved"}}}), ConfigError);
}

}  // namespace
}  // namespace llmbatch
