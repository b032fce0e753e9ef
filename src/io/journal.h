// The journal of committed work: one JSON line per commit of a rank, in
// OUT_DIR/journal-r<rank>.jsonl, appended only after the segment it names
// was renamed into place and fsync'ed:
//
//   {"segment":"seg-r0-3.h5","units":[12,15],"rows":40,"crc32":3735928559}
//
// The journals are the single source of truth of what a job has done:
//  - a segment no journal names (a crash between its rename and the journal
//    append) is an orphan: merge ignores it, resume deletes it;
//  - a last line without its newline, or that does not parse (a crash in the
//    middle of the append), is torn: it is ignored, and the rank's writer
//    cuts it off before appending again;
//  - any other line that does not parse means the journal is corrupt: IoError.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace llmbatch {

struct JournalEntry {
  std::string segment;         // file name in OUT_DIR/segments
  std::vector<int64_t> units;  // work-unit ids whose rows the segment holds, all of them
  int64_t rows = 0;
  uint32_t crc32 = 0;  // of the segment file's bytes

  std::string to_line() const;  // JSON plus '\n'
  bool operator==(const JournalEntry&) const = default;
};

// Appends one entry durably (journal.h's order: after the segment's rename).
void journal_append(const std::string& journal_path, const JournalEntry& entry);
// The committed entries of one journal file; a torn last line is skipped
// (and reported through `torn` when given). A missing file has no entries.
std::vector<JournalEntry> journal_read(const std::string& journal_path, bool* torn = nullptr);
// Cuts a torn last line off so that the next append starts a fresh line.
// Returns whether there was one.
bool journal_truncate_torn_tail(const std::string& journal_path);

struct CommittedWork {
  std::set<int64_t> units;
  std::vector<JournalEntry> segments;  // journal order, rank 0 first
  int64_t rows = 0;
};

// Everything committed by any rank in out_dir, for the job runner's resume
// and for merge. Throws IoError when a unit is committed twice or a
// journal names a segment file that does not exist.
CommittedWork read_committed_units(const std::string& out_dir);

// Deletes segment files that no journal names and leftover *.tmp files in
// OUT_DIR/segments; returns their names. Call it before any writer of the
// job starts (one rank, then a barrier): a segment another rank has just
// renamed but not yet journaled looks exactly like an orphan.
std::vector<std::string> remove_orphan_segments(const std::string& out_dir);

}  // namespace llmbatch
