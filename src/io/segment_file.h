// Reading and writing ResultColumns as HDF5 files with the results schema
// (docs/output-format.md). The same schema serves a segment (one commit of
// one rank) and results.h5 (all rows, ordered), so export and tests read both.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/hdf5_column.h"
#include "io/hdf5_handle.h"
#include "io/segment_columns.h"

namespace llmbatch {

// Root attributes llmbatch writes itself; callers' attribute names must differ.
inline constexpr const char* kFormatAttribute = "llmbatch_format";  // = kFormatName
inline constexpr const char* kFormatName = "llmbatch-results";
inline constexpr const char* kFormatVersionAttribute = "llmbatch_format_version";  // = kFormatVersion
inline constexpr int64_t kFormatVersion = 1;
inline constexpr const char* kNumRowsAttribute = "num_rows";
inline constexpr const char* kNumRecordsAttribute = "num_records";  // results.h5: distinct indices

// Throws ConfigError when a caller's attribute takes a name listed above.
void check_attribute_names(const std::map<std::string, std::string>& attributes);

class SegmentFileWriter {
 public:
  // Creates `path` (truncating it) with every group and empty dataset;
  // /tokens and /text only when asked for. Throws IoError.
  SegmentFileWriter(const std::string& path, bool has_tokens, bool has_text);
  ~SegmentFileWriter();
  SegmentFileWriter(const SegmentFileWriter&) = delete;
  SegmentFileWriter& operator=(const SegmentFileWriter&) = delete;

  // Appends rows; columns.has_tokens/has_text must match the file.
  void append(const ResultColumns& columns);
  int64_t rows() const;
  // Writes the root attributes (the caller's, then format, version,
  // num_rows and, if given, num_records) and closes the file, reporting any
  // error of the final flush. Throws ConfigError for a caller attribute
  // with a reserved name.
  void finish(const std::map<std::string, std::string>& attributes, std::optional<int64_t> num_records);

 private:
  struct Columns;
  std::string path_;
  H5Id file_;
  std::unique_ptr<Columns> columns_;
};

class SegmentFileReader {
 public:
  // Opens `path` read-only. Throws IoError when it is missing, not HDF5, or
  // not written by llmbatch (no format attribute).
  explicit SegmentFileReader(const std::string& path);

  const std::string& path() const { return path_; }
  int64_t rows() const { return rows_; }
  bool has_tokens() const { return has_tokens_; }
  bool has_text() const { return has_text_; }
  // The caller's root attributes (llmbatch's own are left out).
  const std::map<std::string, std::string>& attributes() const { return attributes_; }
  // num_records of a merged file, nullopt for a segment.
  std::optional<int64_t> num_records() const { return num_records_; }

  // Rows [begin, end), offsets rebased to start at 0, validated.
  ResultColumns read(int64_t begin, int64_t end) const;
  // Just the (index, sample) keys of every row, for ordering a merge.
  std::vector<int64_t> read_index() const;
  std::vector<int32_t> read_sample() const;

 private:
  std::string path_;
  H5Id file_;
  int64_t rows_ = 0;
  bool has_tokens_ = false, has_text_ = false;
  std::map<std::string, std::string> attributes_;
  std::optional<int64_t> num_records_;
  // Columns opened on first use and kept open (see H5ColumnReader).
  const H5ColumnReader& column(const std::string& name) const;
  mutable std::map<std::string, H5ColumnReader> columns_;
};

}  // namespace llmbatch
