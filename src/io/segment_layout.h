// Where the output of a job lives in `output.dir`:
//
//   OUT_DIR/segments/seg-r<rank>-<n>.h5   committed segments (n counts per rank from 0)
//   OUT_DIR/segments/*.tmp                 a segment being written (or left by a crash)
//   OUT_DIR/journal-r<rank>.jsonl          one line per commit of that rank (journal.h)
//   OUT_DIR/status.json                    progress for monitors (job_status.h)
//   OUT_DIR/results.h5                     after `llmbatch merge`
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace llmbatch {

inline constexpr const char* kResultsFileName = "results.h5";

std::string segments_dir(const std::string& out_dir);
std::string segment_file_name(int rank, int64_t number);  // "seg-r3-12.h5"
struct SegmentName {
  int rank = 0;
  int64_t number = 0;
};
// Parses a name made by segment_file_name; nullopt for anything else.
std::optional<SegmentName> parse_segment_file_name(const std::string& name);

std::string journal_path(const std::string& out_dir, int rank);
// The journals present in out_dir, ordered by rank.
std::vector<std::string> journal_paths(const std::string& out_dir);

std::string status_path(const std::string& out_dir);

}  // namespace llmbatch
