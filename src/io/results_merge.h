// `llmbatch merge`: the journal-listed segments of an output directory into
// one results.h5, rows ordered by (index, sample), each exactly once.
//
// Memory: the (index, sample, segment, row) key of every row (24 bytes a
// row) plus a bounded batch of rows being copied; text and tokens stream
// from a few open segments (at most 8) straight into the output.
#pragma once

#include <cstdint>
#include <string>

namespace llmbatch {

struct MergeSummary {
  std::string output_path;
  int64_t segments = 0;
  int64_t rows = 0;
  int64_t records = 0;  // distinct indices
};

// Reads OUT_DIR's journals, checks every listed segment (exists, CRC-32 and
// row count as journaled, same groups as the others), checks that no
// (index, sample) appears twice, and writes `output_path` (default
// OUT_DIR/results.h5) atomically with the segments' root attributes plus
// num_rows and num_records. Orphan segments and *.tmp files are ignored.
// Throws IoError: no such directory, no journal, a corrupt segment, a
// duplicate row (naming both segments).
MergeSummary merge_results(const std::string& out_dir, const std::string& output_path = {});

}  // namespace llmbatch
