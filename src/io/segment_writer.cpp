#include "io/segment_writer.h"

#include <algorithm>
#include <filesystem>
#include <tuple>

#include "core/error.h"
#include "io/segment_columns.h"
#include "io/segment_file.h"
#include "io/segment_fs.h"
#include "io/segment_layout.h"

namespace llmbatch {
namespace {

namespace fs = std::filesystem;

// One past the highest segment number of `rank` in the directory (committed,
// orphaned or temporary) and in its journal, so a name is never reused.
int64_t first_free_number(const std::string& out_dir, int rank) {
  int64_t next = 0;
  auto consider = [&](const std::string& name) {
    const auto parsed = parse_segment_file_name(name);
    if (parsed && parsed->rank == rank) next = std::max(next, parsed->number + 1);
  };
  for (const auto& entry : fs::directory_iterator(segments_dir(out_dir))) {
    std::string name = entry.path().filename().string();
    if (name.ends_with(".tmp")) name.resize(name.size() - 4);
    consider(name);
  }
  for (const JournalEntry& e : journal_read(journal_path(out_dir, rank))) consider(e.segment);
  return next;
}

}  // namespace

SegmentWriter::SegmentWriter(std::string out_dir, int rank, SegmentOptions options)
    : out_dir_(std::move(out_dir)), rank_(rank), options_(std::move(options)) {
  check_attribute_names(options_.attributes);
  std::error_code ec;
  fs::create_directories(segments_dir(out_dir_), ec);
  if (ec) {
    throw IoError("cannot create the segments directory: " + ec.message(), {.file = segments_dir(out_dir_)},
                  "check output.dir");
  }
  journal_truncate_torn_tail(journal_path(out_dir_, rank_));
  next_number_ = first_free_number(out_dir_, rank_);
}

void SegmentWriter::add_row(int64_t unit, ResultRow row) {
  LLMBATCH_CHECK(std::find(completed_.begin(), completed_.end(), unit) == completed_.end(),
                 "no row is added to a completed unit");
  rows_[unit].push_back(std::move(row));
}

void SegmentWriter::complete_unit(int64_t unit) {
  LLMBATCH_CHECK(std::find(completed_.begin(), completed_.end(), unit) == completed_.end(),
                 "a unit is completed once");
  rows_[unit];  // a unit without rows still gets committed
  completed_.push_back(unit);
}

int64_t SegmentWriter::pending_rows() const {
  int64_t n = 0;
  for (const auto& [unit, rows] : rows_) n += static_cast<int64_t>(rows.size());
  return n;
}

std::optional<JournalEntry> SegmentWriter::commit() {
  if (completed_.empty()) return std::nullopt;
  std::vector<const ResultRow*> rows;
  for (const int64_t unit : completed_) {
    for (const ResultRow& row : rows_.at(unit)) rows.push_back(&row);
  }
  std::sort(rows.begin(), rows.end(), [](const ResultRow* a, const ResultRow* b) {
    return std::tie(a->index, a->sample) < std::tie(b->index, b->sample);
  });
  ResultColumns columns;
  columns.has_tokens = options_.token_ids;
  columns.has_text = options_.text;
  for (const ResultRow* row : rows) columns.append(*row);

  const std::string name = segment_file_name(rank_, next_number_++);
  const std::string final_path = (fs::path(segments_dir(out_dir_)) / name).string();
  const std::string tmp_path = final_path + ".tmp";
  try {
    SegmentFileWriter file(tmp_path, options_.token_ids, options_.text);
    file.append(columns);
    file.finish(options_.attributes, std::nullopt);
    fsync_file(tmp_path);
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp_path, ignored);
    throw;  // the rows stay buffered: a later commit may succeed
  }
  JournalEntry entry{.segment = name, .units = completed_, .rows = columns.rows(), .crc32 = file_crc32(tmp_path)};
  std::sort(entry.units.begin(), entry.units.end());
  rename_durably(tmp_path, final_path);
  journal_append(journal_path(out_dir_, rank_), entry);
  for (const int64_t unit : completed_) rows_.erase(unit);
  completed_.clear();
  return entry;
}

}  // namespace llmbatch
