#include "io/results_merge.h"

#include <algorithm>
#include <filesystem>
#include <list>
#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include <spdlog/spdlog.h>

#include "core/error.h"
#include "io/journal.h"
#include "io/segment_file.h"
#include "io/segment_fs.h"
#include "io/segment_layout.h"

namespace llmbatch {
namespace {

namespace fs = std::filesystem;

// Rows copied per append to the output: bounds memory, amortizes HDF5 calls.
constexpr int64_t kBatchRows = 4096;
// Segment files kept open while copying. In index order the ranks' units
// interleave, so runs alternate between about one segment per rank; an
// open segment keeps HDF5's chunk caches (reopening one per run decompressed
// its chunks again: 3x slower). Each costs a few MB at most.
constexpr size_t kOpenSegments = 8;

struct RowKey {
  int64_t index;
  int32_t sample;
  int32_t segment;  // position in the segment list
  int64_t row;      // row within that segment
};

// What every segment must share with the first one.
struct SegmentShape {
  std::string path;
  bool has_tokens = true, has_text = true;
  std::map<std::string, std::string> attributes;
};

// Verifies a journaled segment against its journal entry and the first segment.
void check_segment(const JournalEntry& entry, const SegmentFileReader& reader, const SegmentShape* first) {
  if (reader.rows() != entry.rows) {
    throw IoError("segment has " + std::to_string(reader.rows()) + " rows, the journal says " +
                      std::to_string(entry.rows),
                  {.file = reader.path()}, "the segment is corrupt; remove its journal line and rerun its units");
  }
  if (first == nullptr) return;
  if (reader.has_tokens() != first->has_tokens || reader.has_text() != first->has_text) {
    throw IoError("segment stores different groups (/tokens, /text) than '" + first->path + "'",
                  {.file = reader.path()}, "output.text and output.token_ids must not change when a job resumes");
  }
  if (reader.attributes() != first->attributes) {
    spdlog::warn("merge: root attributes of '{}' differ from those of '{}'; results.h5 keeps the first",
                 reader.path(), first->path);
  }
}

// Sorts the keys and throws on a duplicate, naming both segments.
void sort_keys(std::vector<RowKey>& keys, const std::vector<std::string>& paths) {
  std::sort(keys.begin(), keys.end(), [](const RowKey& a, const RowKey& b) {
    return std::tie(a.index, a.sample, a.segment, a.row) < std::tie(b.index, b.sample, b.segment, b.row);
  });
  for (size_t i = 1; i < keys.size(); ++i) {
    const RowKey& a = keys[i - 1];
    const RowKey& b = keys[i];
    if (a.index == b.index && a.sample == b.sample) {
      throw IoError("row (index " + std::to_string(a.index) + ", sample " + std::to_string(a.sample) +
                        ") is in two segments: '" + paths[a.segment] + "' and '" + paths[b.segment] + "'",
                    {}, "this is a bug in llmbatch (a unit ran twice); please report it with the journals");
    }
  }
}

// Copies rows in key order: each run of keys that are consecutive rows of
// one segment is one range read (segments are sorted, so runs are long).
void copy_rows(const std::vector<RowKey>& keys, const std::vector<std::string>& paths, SegmentFileWriter& out,
               const SegmentShape& shape) {
  const ResultColumns empty{.has_tokens = shape.has_tokens, .has_text = shape.has_text};
  ResultColumns batch = empty;
  std::list<std::pair<int32_t, std::unique_ptr<SegmentFileReader>>> open;  // most recently used first
  const auto reader_for = [&](int32_t segment) -> const SegmentFileReader& {
    const auto it = std::find_if(open.begin(), open.end(), [&](const auto& o) { return o.first == segment; });
    if (it != open.end()) {
      open.splice(open.begin(), open, it);
    } else {
      if (open.size() == kOpenSegments) open.pop_back();
      open.emplace_front(segment, std::make_unique<SegmentFileReader>(paths[segment]));
    }
    return *open.front().second;
  };
  size_t i = 0;
  while (i < keys.size()) {
    size_t end = i + 1;
    while (end < keys.size() && keys[end].segment == keys[i].segment && keys[end].row == keys[end - 1].row + 1 &&
           static_cast<int64_t>(end - i) < kBatchRows) {
      ++end;
    }
    batch.append(reader_for(keys[i].segment).read(keys[i].row, keys[end - 1].row + 1));
    if (batch.rows() >= kBatchRows) {
      out.append(batch);
      batch = empty;
    }
    i = end;
  }
  out.append(batch);
}

}  // namespace

MergeSummary merge_results(const std::string& out_dir, const std::string& output_path) {
  const CommittedWork work = read_committed_units(out_dir);
  if (journal_paths(out_dir).empty()) {
    throw IoError("no journal-r*.jsonl in the output directory", {.file = out_dir},
                  "give a job's output.dir after it committed its first segment");
  }
  MergeSummary summary;
  summary.output_path = output_path.empty() ? (fs::path(out_dir) / kResultsFileName).string() : output_path;
  std::vector<std::string> paths;
  std::vector<RowKey> keys;
  SegmentShape shape;
  for (const JournalEntry& entry : work.segments) {
    const std::string path = (fs::path(segments_dir(out_dir)) / entry.segment).string();
    if (file_crc32(path) != entry.crc32) {
      throw IoError("segment does not match the CRC-32 its journal recorded", {.file = path},
                    "the segment is corrupt; remove its journal line and rerun its units");
    }
    const SegmentFileReader reader(path);
    check_segment(entry, reader, paths.empty() ? nullptr : &shape);
    if (paths.empty()) shape = {path, reader.has_tokens(), reader.has_text(), reader.attributes()};
    const auto segment = static_cast<int32_t>(paths.size());
    const auto index = reader.read_index();
    const auto sample = reader.read_sample();
    for (size_t r = 0; r < index.size(); ++r) keys.push_back({index[r], sample[r], segment, static_cast<int64_t>(r)});
    paths.push_back(path);
  }
  sort_keys(keys, paths);
  summary.segments = static_cast<int64_t>(paths.size());
  summary.rows = static_cast<int64_t>(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) summary.records += (i == 0 || keys[i].index != keys[i - 1].index);

  const std::string tmp_path = summary.output_path + ".tmp";
  try {
    SegmentFileWriter out(tmp_path, shape.has_tokens, shape.has_text);
    copy_rows(keys, paths, out, shape);
    out.finish(shape.attributes, summary.records);
    fsync_file(tmp_path);
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp_path, ignored);
    throw;
  }
  rename_durably(tmp_path, summary.output_path);
  return summary;
}

}  // namespace llmbatch
