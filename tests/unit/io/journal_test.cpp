#include "io/journal.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/error.h"
#include "io/segment_layout.h"
#include "segment_test_rows.h"

namespace llmbatch {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

JournalEntry entry(int rank, int64_t n, std::vector<int64_t> units, int64_t rows) {
  return {segment_file_name(rank, n), std::move(units), rows, 0xDEADBEEFu};
}

// An output directory with segment files for the given entries.
void add_committed(const std::string& out, int rank, const JournalEntry& e) {
  fs::create_directories(segments_dir(out));
  std::ofstream(fs::path(segments_dir(out)) / e.segment) << "segment";
  journal_append(journal_path(out, rank), e);
}

TEST(Journal, LinesAreJsonAndRoundTrip) {
  const JournalEntry e = entry(0, 3, {12, 15}, 40);
  EXPECT_EQ(e.to_line(), "{\"crc32\":3735928559,\"rows\":40,\"segment\":\"seg-r0-3.h5\",\"units\":[12,15]}\n");
  TempDir dir("journal");
  const std::string path = dir.file("journal-r0.jsonl");
  EXPECT_TRUE(journal_read(path).empty());  // no file yet
  journal_append(path, e);
  journal_append(path, entry(0, 4, {}, 0));
  bool torn = true;
  EXPECT_EQ(journal_read(path, &torn), (std::vector<JournalEntry>{e, entry(0, 4, {}, 0)}));
  EXPECT_FALSE(torn);
}

TEST(Journal, TornLastLineIsIgnoredAndCutOff) {
  TempDir dir("journal");
  const std::string path = dir.file("journal-r0.jsonl");
  journal_append(path, entry(0, 0, {1}, 2));
  const std::string full = entry(0, 1, {2}, 2).to_line();
  // A crash at every point of the second append.
  for (size_t cut = 1; cut < full.size(); ++cut) {
    std::ofstream(path, std::ios::app) << full.substr(0, cut);
    bool torn = false;
    EXPECT_EQ(journal_read(path, &torn), std::vector<JournalEntry>{entry(0, 0, {1}, 2)}) << cut;
    EXPECT_TRUE(torn);
    EXPECT_TRUE(journal_truncate_torn_tail(path));
    EXPECT_FALSE(journal_truncate_torn_tail(path));
  }
  journal_append(path, entry(0, 1, {2}, 2));
  EXPECT_EQ(journal_read(path).size(), 2u);
}

TEST(Journal, CorruptLineInTheMiddleIsAnIoError) {
  TempDir dir("journal");
  const std::string path = dir.file("journal-r0.jsonl");
  journal_append(path, entry(0, 0, {1}, 2));
  std::ofstream(path, std::ios::app) << "{\"segment\":\"seg-r0-1.h5\",\"units\":[\n";
  journal_append(path, entry(0, 2, {3}, 2));
  EXPECT_THROW(journal_read(path), IoError);
  std::ofstream(path) << "{\"segment\":\"../etc/passwd\",\"units\":[],\"rows\":0,\"crc32\":0}\n";
  EXPECT_THROW(journal_read(path), IoError);
  std::ofstream(path) << "{\"segment\":\"seg-r0-1.h5\",\"rows\":0,\"crc32\":0}\n";
  EXPECT_THROW(journal_read(path), IoError);
}

TEST(CommittedUnits, UnionOfAllRanksJournals) {
  TempDir dir("journal");
  add_committed(dir.str(), 0, entry(0, 0, {0, 2}, 5));
  add_committed(dir.str(), 1, entry(1, 0, {1}, 3));
  add_committed(dir.str(), 0, entry(0, 1, {4}, 1));
  std::ofstream(journal_path(dir.str(), 1), std::ios::app) << "{\"segment\":\"seg-r1";  // torn
  const CommittedWork work = read_committed_units(dir.str());
  EXPECT_EQ(work.units, (std::set<int64_t>{0, 1, 2, 4}));
  EXPECT_EQ(work.rows, 9);
  ASSERT_EQ(work.segments.size(), 3u);
  EXPECT_EQ(work.segments[0].segment, "seg-r0-0.h5");
  EXPECT_EQ(work.segments[2].segment, "seg-r1-0.h5");
}

TEST(CommittedUnits, DuplicateUnitsAndMissingSegmentsAreIoErrors) {
  TempDir dir("journal");
  EXPECT_THROW(read_committed_units(dir.file("missing")), IoError);
  EXPECT_TRUE(read_committed_units(dir.str()).units.empty());
  add_committed(dir.str(), 0, entry(0, 0, {7}, 1));
  add_committed(dir.str(), 1, entry(1, 0, {7}, 1));
  try {
    read_committed_units(dir.str());
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("seg-r0-0.h5"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("seg-r1-0.h5"), std::string::npos);
  }
  TempDir other("journal_missing");
  journal_append(journal_path(other.str(), 0), entry(0, 0, {1}, 1));
  EXPECT_THROW(read_committed_units(other.str()), IoError);
}

TEST(OrphanSegments, OnlyUnjournaledSegmentsAndTemporariesAreRemoved) {
  TempDir dir("journal");
  add_committed(dir.str(), 0, entry(0, 0, {0}, 1));
  const fs::path seg = segments_dir(dir.str());
  for (const char* name : {"seg-r0-1.h5", "seg-r1-0.h5.tmp", "seg-r0-2.h5.tmp", "notes.txt", "seg-r0-x.h5"}) {
    std::ofstream(seg / name) << "x";
  }
  EXPECT_EQ(remove_orphan_segments(dir.str()),
            (std::vector<std::string>{"seg-r0-1.h5", "seg-r0-2.h5.tmp", "seg-r1-0.h5.tmp"}));
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(seg)) left.push_back(e.path().filename().string());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"notes.txt", "seg-r0-0.h5", "seg-r0-x.h5"}));
  EXPECT_TRUE(remove_orphan_segments(dir.file("missing")).empty());
}

}  // namespace
}  // namespace llmbatch
