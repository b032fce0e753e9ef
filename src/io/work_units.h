// The job's input cut into work units: a file and a range of its records.
// Ranks claim units one at a time (comm's shared counter) and read each
// through InputSource.
//
//   struct WorkUnit { id, file, first_index, num_records, begin_offset, first_record_in_file };
//   struct InputIndex { files, units, num_records, fingerprint };
//   InputIndex index_inputs(const InputOptions&, const std::string& cache_dir);
//
// Indexing is one streaming pass per file (count the lines, remember the
// byte offset where each unit starts; hdf5-tokens: read and check the
// offsets). Its result per file is cached in `cache_dir`/input-index.json,
// keyed by absolute path, size, mtime, kind (lines or hdf5) and
// records_per_unit, so a rerun does not rescan. Memory is bounded by the
// read buffer plus 8 bytes per unit, whatever the file size.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/input_options.h"

namespace llmbatch {

struct WorkUnit {
  int64_t id = 0;                    // position in InputIndex::units
  int32_t file = 0;                  // index into InputIndex::files
  int64_t first_index = 0;           // global index of the unit's first record
  int64_t num_records = 0;           // >= 1
  uint64_t begin_offset = 0;         // line formats: decompressed byte offset of the first record
  int64_t first_record_in_file = 0;  // 0-based; line formats: its line number - 1
};

struct InputIndex {
  std::vector<std::string> files;  // expanded input.paths, in job order
  std::vector<WorkUnit> units;     // in record order: units[i].first_index increases
  int64_t num_records = 0;
  // Hex digest of the files (path, size, mtime) and every InputOptions
  // field but `paths`: equal fingerprints mean the same records, the same
  // units and the same parsing, so a resumed job may trust its journal.
  std::string fingerprint;
};

// Expands options.paths and indexes every file. `cache_dir` (the output
// directory, created if missing) holds the cache; empty means no cache.
// Throws ConfigError for bad options or paths, InputError/IoError naming
// the file for a file that cannot be read as options.format.
InputIndex index_inputs(const InputOptions& options, const std::string& cache_dir);

// Name of the cache file inside cache_dir.
inline constexpr const char* kInputIndexCacheName = "input-index.json";

}  // namespace llmbatch
