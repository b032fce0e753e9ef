#include "io/journal.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/segment_fs.h"
#include "io/segment_layout.h"

namespace llmbatch {
namespace {

namespace fs = std::filesystem;

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot read journal", {.file = path});
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// Parses one complete journal line; throws IoError naming the line.
JournalEntry parse_entry(const std::string& line, const std::string& path, size_t line_number) {
  const auto fail = [&](const std::string& what) {
    return IoError("journal line " + std::to_string(line_number) + " " + what, {.file = path},
                   "the journal is corrupt: restore it or start the job in a fresh output directory");
  };
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) throw fail("is not a JSON object");
  JournalEntry e;
  try {
    e.segment = j.at("segment").get<std::string>();
    e.units = j.at("units").get<std::vector<int64_t>>();
    e.rows = j.at("rows").get<int64_t>();
    e.crc32 = j.at("crc32").get<uint32_t>();
  } catch (const nlohmann::json::exception& ex) {
    throw fail(std::string("lacks a field: ") + ex.what());
  }
  if (!parse_segment_file_name(e.segment) || e.rows < 0) throw fail("names no valid segment");
  return e;
}

}  // namespace

std::string JournalEntry::to_line() const {
  const nlohmann::json j = {{"segment", segment}, {"units", units}, {"rows", rows}, {"crc32", crc32}};
  return j.dump() + "\n";
}

void journal_append(const std::string& journal_path, const JournalEntry& entry) {
  append_line_durably(journal_path, entry.to_line());
}

std::vector<JournalEntry> journal_read(const std::string& journal_path, bool* torn) {
  if (torn != nullptr) *torn = false;
  std::vector<JournalEntry> entries;
  if (!fs::exists(journal_path)) return entries;
  const std::string content = read_whole_file(journal_path);
  size_t begin = 0, line_number = 1;
  for (size_t end; (end = content.find('\n', begin)) != std::string::npos; begin = end + 1, ++line_number) {
    const std::string line = content.substr(begin, end - begin);
    if (!line.empty()) entries.push_back(parse_entry(line, journal_path, line_number));
  }
  // Bytes after the last newline: an append that a crash cut short.
  if (torn != nullptr) *torn = begin < content.size();
  return entries;
}

bool journal_truncate_torn_tail(const std::string& journal_path) {
  if (!fs::exists(journal_path)) return false;
  const std::string content = read_whole_file(journal_path);
  const size_t last_newline = content.rfind('\n');
  const size_t keep = last_newline == std::string::npos ? 0 : last_newline + 1;
  if (keep == content.size()) return false;
  std::error_code ec;
  fs::resize_file(journal_path, keep, ec);
  if (ec) throw IoError("cannot cut the torn last line: " + ec.message(), {.file = journal_path});
  fsync_file(journal_path);
  return true;
}

CommittedWork read_committed_units(const std::string& out_dir) {
  if (!fs::is_directory(out_dir)) {
    throw IoError("no such output directory", {.file = out_dir}, "give the job's output.dir");
  }
  CommittedWork work;
  std::map<int64_t, std::string> unit_segment;
  for (const std::string& path : journal_paths(out_dir)) {
    for (JournalEntry& e : journal_read(path)) {
      const std::string segment_path = (fs::path(segments_dir(out_dir)) / e.segment).string();
      if (!fs::is_regular_file(segment_path)) {
        throw IoError("the journal names a segment that does not exist", {.file = segment_path},
                      "was the segments directory changed? Its units cannot be recovered without rerunning");
      }
      for (const int64_t unit : e.units) {
        const auto [it, fresh] = unit_segment.emplace(unit, e.segment);
        if (!fresh) {
          throw IoError("work unit " + std::to_string(unit) + " is committed twice, in segments '" + it->second +
                            "' and '" + e.segment + "'",
                        {.file = path}, "this is a bug in llmbatch; please report it with the journals");
        }
        work.units.insert(unit);
      }
      work.rows += e.rows;
      work.segments.push_back(std::move(e));
    }
  }
  return work;
}

std::vector<std::string> remove_orphan_segments(const std::string& out_dir) {
  std::set<std::string> journaled;
  for (const std::string& path : journal_paths(out_dir)) {
    for (const JournalEntry& e : journal_read(path)) journaled.insert(e.segment);
  }
  std::vector<std::string> removed;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(segments_dir(out_dir), ec)) {
    const std::string name = entry.path().filename().string();
    const bool leftover_tmp = name.starts_with("seg-r") && name.ends_with(".tmp");
    const bool orphan = parse_segment_file_name(name) && !journaled.contains(name);
    if (entry.is_regular_file() && (leftover_tmp || orphan)) {
      fs::remove(entry.path());
      removed.push_back(name);
    }
  }
  std::sort(removed.begin(), removed.end());
  return removed;
}

}  // namespace llmbatch
