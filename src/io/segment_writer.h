// One rank's result writer. Rows arrive per work unit as records finish (in
// any order, several units in flight); commit() makes every unit completed
// since the last commit durable, in this order:
//
//   1. write OUT_DIR/segments/seg-r<rank>-<n>.h5.tmp (rows sorted by
//      (index, sample)), flush, close, fsync;
//   2. rename it to seg-r<rank>-<n>.h5, fsync the directory;
//   3. append {segment, units, rows, crc32} to journal-r<rank>.jsonl, fsync.
//
// A crash before 3 leaves an orphan that merge ignores and resume deletes;
// the units it held are not committed and run again. Units still in flight
// at a commit stay buffered for a later one.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "io/journal.h"
#include "io/record.h"

namespace llmbatch {

struct SegmentOptions {
  bool text = true;       // output.text: store /text/output
  bool token_ids = true;  // output.token_ids: store /tokens
  // Root attributes of every segment (and so of results.h5): job YAML,
  // model and tokenizer hashes, llmbatch version. Names must not be the
  // format's own (segment_file.h).
  std::map<std::string, std::string> attributes;
};

class SegmentWriter {
 public:
  // Creates OUT_DIR/segments if needed, cuts a torn last line off this
  // rank's journal, and numbers new segments after every existing one of
  // this rank. Throws IoError, or ConfigError for a reserved attribute name.
  SegmentWriter(std::string out_dir, int rank, SegmentOptions options);

  // Buffers one finished row of `unit`. Throws InternalError for a unit
  // already completed.
  void add_row(int64_t unit, ResultRow row);
  // Marks `unit` complete: the next commit() writes it (a unit may have no rows).
  void complete_unit(int64_t unit);
  // Writes the units completed since the last commit as one segment and
  // journals it; nullopt (and no file) when none were completed.
  std::optional<JournalEntry> commit();

  // Rows buffered, completed or not.
  int64_t pending_rows() const;
  int64_t completed_units() const { return static_cast<int64_t>(completed_.size()); }
  // The number the next segment file gets.
  int64_t next_segment_number() const { return next_number_; }

 private:
  std::string out_dir_;
  int rank_;
  SegmentOptions options_;
  int64_t next_number_ = 0;
  std::map<int64_t, std::vector<ResultRow>> rows_;  // by unit, completed or in flight
  std::vector<int64_t> completed_;                 // units to write at the next commit
};

}  // namespace llmbatch
