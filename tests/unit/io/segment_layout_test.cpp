#include "io/segment_layout.h"

#include <fstream>

#include <gtest/gtest.h>

#include "segment_test_rows.h"

namespace llmbatch {
namespace {

TEST(SegmentLayout, SegmentNamesRoundTrip) {
  EXPECT_EQ(segment_file_name(3, 12), "seg-r3-12.h5");
  const auto parsed = parse_segment_file_name("seg-r3-12.h5");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->rank, 3);
  EXPECT_EQ(parsed->number, 12);
  for (const char* bad : {"seg-r3-12.h5.tmp", "seg-r3.h5", "seg-r-1.h5", "seg-rx-1.h5", "seg-r1-2x.h5",
                          "results.h5", "seg-r1--2.h5", ""}) {
    EXPECT_FALSE(parse_segment_file_name(bad)) << bad;
  }
}

TEST(SegmentLayout, PathsInsideTheOutputDirectory) {
  EXPECT_EQ(segments_dir("/out"), "/out/segments");
  EXPECT_EQ(journal_path("/out", 2), "/out/journal-r2.jsonl");
  EXPECT_EQ(status_path("/out"), "/out/status.json");
}

TEST(SegmentLayout, JournalPathsAreOrderedByRankNumber) {
  testing::TempDir dir("layout");
  for (int rank : {10, 2, 0}) std::ofstream(journal_path(dir.str(), rank)) << "";
  std::ofstream(dir.file("journal-rx.jsonl")) << "";
  std::ofstream(dir.file("journal-r1.jsonl.tmp")) << "";
  EXPECT_EQ(journal_paths(dir.str()), (std::vector<std::string>{journal_path(dir.str(), 0), journal_path(dir.str(), 2),
                                                                journal_path(dir.str(), 10)}));
  EXPECT_TRUE(journal_paths(dir.file("missing")).empty());
}

}  // namespace
}  // namespace llmbatch
