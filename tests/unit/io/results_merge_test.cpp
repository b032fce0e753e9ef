#include "io/results_merge.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/error.h"
#include "io/hdf5_column.h"
#include "io/journal.h"
#include "io/segment_file.h"
#include "io/segment_layout.h"
#include "io/segment_writer.h"
#include "segment_test_rows.h"

namespace llmbatch {
namespace {

namespace fs = std::filesystem;
using testing::expect_row_eq;
using testing::make_record_rows;
using testing::TempDir;

struct Job {
  int64_t records = 30;
  int64_t unit_size = 3;
  int ranks = 2;
  int units_per_commit = 2;
  SegmentOptions options{.attributes = {{"model_hash", "h"}, {"llmbatch_version", "0.1.0"}}};
};

// Units are dealt round-robin to ranks, as dynamic claiming might; each
// rank commits every `units_per_commit` units. Returns every row, in
// (index, sample) order: what results.h5 must hold.
std::vector<ResultRow> run_job(const std::string& out, const Job& job, const std::set<int64_t>& skip_units = {}) {
  std::vector<SegmentWriter> writers;
  for (int r = 0; r < job.ranks; ++r) writers.emplace_back(out, r, job.options);
  std::vector<ResultRow> all;
  const int64_t units = (job.records + job.unit_size - 1) / job.unit_size;
  for (int64_t u = 0; u < units; ++u) {
    if (skip_units.contains(u)) continue;
    SegmentWriter& w = writers[u % job.ranks];
    for (int64_t i = u * job.unit_size; i < std::min(job.records, (u + 1) * job.unit_size); ++i) {
      for (ResultRow& row : make_record_rows(i)) {
        all.push_back(row);
        w.add_row(u, std::move(row));
      }
    }
    w.complete_unit(u);
    if (w.completed_units() == job.units_per_commit) w.commit();
  }
  for (auto& w : writers) w.commit();
  return all;
}

void expect_results(const std::string& path, const std::vector<ResultRow>& expected) {
  const SegmentFileReader r(path);
  const ResultColumns c = r.read(0, r.rows());
  ASSERT_EQ(c.rows(), static_cast<int64_t>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) expect_row_eq(c.row(static_cast<int64_t>(i)), expected[i]);
}

std::string merge_error(const std::string& out) {
  try {
    merge_results(out);
  } catch (const IoError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(MergeResults, RowsOfEveryKindFromSeveralRanksComeOutOrderedOnce) {
  TempDir dir("merge");
  const auto expected = run_job(dir.str(), Job{});
  const MergeSummary s = merge_results(dir.str());
  EXPECT_EQ(s.output_path, dir.file("results.h5"));
  EXPECT_EQ(s.rows, static_cast<int64_t>(expected.size()));
  EXPECT_EQ(s.records, 30);
  EXPECT_EQ(s.segments, 6);  // 10 units, 5 per rank, commits of 2 + the rest
  expect_results(s.output_path, expected);
  const SegmentFileReader r(s.output_path);
  EXPECT_EQ(r.num_records(), 30);
  EXPECT_EQ(r.attributes(), Job{}.options.attributes);
  const H5Id file = h5_file_open_read(s.output_path);
  EXPECT_EQ(h5_read_int_attribute(file.get(), "num_rows", s.output_path), s.rows);
  EXPECT_FALSE(fs::exists(s.output_path + ".tmp"));
}

TEST(MergeResults, ManyRowsAcrossBatchesAndOddUnitSizes) {
  TempDir dir("merge");
  const auto expected = run_job(dir.str(), {.records = 6007, .unit_size = 37, .ranks = 3, .units_per_commit = 5});
  ASSERT_GT(expected.size(), 8192u);  // more than two copy batches
  const MergeSummary s = merge_results(dir.str(), dir.file("elsewhere.h5"));
  EXPECT_EQ(s.output_path, dir.file("elsewhere.h5"));
  expect_results(s.output_path, expected);
}

TEST(MergeResults, TextAndTokenOptionsCarryOver) {
  TempDir dir("merge");
  Job job;
  job.options.text = false;
  job.options.token_ids = false;
  run_job(dir.str(), job);
  const SegmentFileReader r(merge_results(dir.str()).output_path);
  EXPECT_FALSE(r.has_text());
  EXPECT_FALSE(r.has_tokens());
}

TEST(MergeResults, CrashLeftoversAreIgnoredAndResumeKeepsExactlyOnce) {
  TempDir dir("merge");
  const std::string out = dir.str();
  Job job{.records = 12, .unit_size = 3, .ranks = 1, .units_per_commit = 1};
  // Units 0..2 committed; the commit of unit 3 crashed after its rename
  // (an orphan segment, its journal line torn halfway).
  auto expected = run_job(out, job, {3});
  {
    SegmentWriter w(out, 0, job.options);
    for (int64_t i = 9; i < 12; ++i) {
      for (auto& row : make_record_rows(i)) w.add_row(3, row);
    }
    w.complete_unit(3);
    const std::string journal = journal_path(out, 0);
    const auto before = fs::file_size(journal);
    const std::string line = w.commit()->to_line();
    fs::resize_file(journal, before);
    std::ofstream(journal, std::ios::app) << line.substr(0, line.size() / 2);
  }
  std::ofstream(fs::path(segments_dir(out)) / "seg-r0-9.h5.tmp") << "half a segment";
  EXPECT_EQ(read_committed_units(out).units, (std::set<int64_t>{0, 1, 2}));
  expect_results(merge_results(out).output_path, expected);  // the orphan is not merged

  // Resume: delete leftovers, run the missing unit again.
  EXPECT_EQ(remove_orphan_segments(out), (std::vector<std::string>{"seg-r0-3.h5", "seg-r0-9.h5.tmp"}));
  {
    SegmentWriter w(out, 0, job.options);
    for (int64_t i = 9; i < 12; ++i) {
      for (auto& row : make_record_rows(i)) {
        expected.push_back(row);
        w.add_row(3, row);
      }
    }
    w.complete_unit(3);
    w.commit();
  }
  expect_results(merge_results(out).output_path, expected);
}

TEST(MergeResults, OrphansAreIgnoredEvenWhenNotRemoved) {
  TempDir dir("merge");
  const std::string out = dir.str();
  const auto expected = run_job(out, {.records = 6, .unit_size = 3, .ranks = 1, .units_per_commit = 1});
  // A copy of a committed segment under an unjournaled name: its rows are
  // duplicates, so merging it would fail.
  fs::copy_file(fs::path(segments_dir(out)) / "seg-r0-0.h5", fs::path(segments_dir(out)) / "seg-r0-7.h5");
  expect_results(merge_results(out).output_path, expected);
}

TEST(MergeResults, DuplicateRowsNameBothSegments) {
  TempDir dir("merge");
  const std::string out = dir.str();
  run_job(out, {.records = 6, .unit_size = 3, .ranks = 1, .units_per_commit = 1});
  SegmentWriter w(out, 1, {});
  w.add_row(17, make_record_rows(4)[0]);  // record 4 is in unit 1 of rank 0
  w.complete_unit(17);
  w.commit();
  const std::string error = merge_error(out);
  EXPECT_NE(error.find("index 4, sample 0"), std::string::npos) << error;
  EXPECT_NE(error.find("seg-r0-1.h5"), std::string::npos) << error;
  EXPECT_NE(error.find("seg-r1-0.h5"), std::string::npos) << error;
  EXPECT_FALSE(fs::exists(dir.file("results.h5")));
}

TEST(MergeResults, CorruptSegmentsAndMissingJournalsAreIoErrors) {
  TempDir dir("merge");
  const std::string out = dir.str();
  EXPECT_NE(merge_error(dir.file("missing")).find("no such output directory"), std::string::npos);
  EXPECT_NE(merge_error(out).find("no journal"), std::string::npos);
  run_job(out, {.records = 6, .unit_size = 3, .ranks = 1, .units_per_commit = 1});
  const fs::path segment = fs::path(segments_dir(out)) / "seg-r0-1.h5";
  {
    std::fstream f(segment, std::ios::in | std::ios::out | std::ios::binary);
    const auto middle = static_cast<std::streamoff>(fs::file_size(segment) / 2);
    f.seekg(middle);
    const char byte = static_cast<char>(f.get());
    f.seekp(middle);
    f.put(static_cast<char>(~byte));
  }
  EXPECT_NE(merge_error(out).find("CRC-32"), std::string::npos);
  fs::remove(segment);
  EXPECT_NE(merge_error(out).find("does not exist"), std::string::npos);
}

TEST(MergeResults, ChangedOutputOptionsBetweenRunsAreRefused) {
  TempDir dir("merge");
  const std::string out = dir.str();
  run_job(out, {.records = 3, .unit_size = 3, .ranks = 1});
  SegmentWriter w(out, 1, {.text = false});
  w.add_row(5, make_record_rows(9)[0]);
  w.complete_unit(5);
  w.commit();
  EXPECT_NE(merge_error(out).find("different groups"), std::string::npos);
}

}  // namespace
}  // namespace llmbatch
