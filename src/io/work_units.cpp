#include "io/work_units.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/error.h"
#include "io/compressed_reader.h"
#include "io/input_hdf5.h"

namespace llmbatch {
namespace {

namespace fs = std::filesystem;

constexpr int kCacheVersion = 1;
constexpr size_t kScanChunk = 1 << 20;

struct FileIndex {
  int64_t num_records = 0;
  std::vector<uint64_t> unit_offsets;  // line formats: byte offset of records 0, rpu, 2 rpu, ...
};

// What makes a cached FileIndex valid.
struct FileKey {
  std::string path;  // absolute
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  std::string kind;  // "lines" or "hdf5"
  int64_t records_per_unit = 0;

  std::string text() const {
    return kind + "|" + std::to_string(records_per_unit) + "|" + std::to_string(size) + "|" +
           std::to_string(mtime_ns) + "|" + path;
  }
};

FileKey file_key(const std::string& path, const InputOptions& options) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw IoError("cannot stat input: " + errno_text(errno), {.file = path});
  }
  return FileKey{.path = fs::absolute(path).lexically_normal().string(),
                 .size = static_cast<uint64_t>(st.st_size),
                 .mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
                 .kind = options.format == InputFormat::kHdf5Tokens ? "hdf5" : "lines",
                 .records_per_unit = options.records_per_unit};
}

// Counts records (lines, see input_lines.h) in one streaming pass; a record
// is counted at its first byte, so the newline ending the file starts none.
FileIndex scan_lines(const std::string& path, int64_t records_per_unit) {
  const auto bytes = open_byte_reader(path);
  std::vector<char> chunk(kScanChunk);
  FileIndex index;
  bool at_line_start = true;
  uint64_t position = 0;
  while (const size_t n = bytes->read(chunk.data(), chunk.size())) {
    size_t i = 0;
    while (i < n) {
      if (at_line_start) {
        if (index.num_records % records_per_unit == 0) index.unit_offsets.push_back(position + i);
        ++index.num_records;
        at_line_start = false;
      }
      const auto* newline = static_cast<const char*>(std::memchr(chunk.data() + i, '\n', n - i));
      if (newline == nullptr) break;
      i = static_cast<size_t>(newline - chunk.data()) + 1;
      at_line_start = true;
    }
    position += n;
  }
  return index;
}

FileIndex scan_hdf5(const std::string& path) {
  const Hdf5TokenFile file(path);
  file.check_offsets();
  return FileIndex{.num_records = file.num_records()};
}

// The per-file cache in cache_dir/input-index.json. A missing, unreadable or
// outdated cache is rebuilt, never an error; it is written atomically (temp
// file + rename) so concurrent ranks never read half a file.
class IndexCache {
 public:
  explicit IndexCache(const std::string& dir) : dir_(dir) {
    if (dir_.empty()) return;
    const fs::path path = fs::path(dir_) / kInputIndexCacheName;
    std::ifstream in(path);
    if (!in) return;
    try {
      const auto json = nlohmann::json::parse(in);
      if (json.at("version").get<int>() != kCacheVersion) return;
      for (const auto& e : json.at("files")) {
        const FileKey key{e.at("path"), e.at("size"), e.at("mtime_ns"), e.at("kind"), e.at("records_per_unit")};
        FileIndex index{e.at("num_records"), e.at("unit_offsets")};
        const bool lines = key.kind == "lines";
        const auto units = static_cast<size_t>((index.num_records + key.records_per_unit - 1) / key.records_per_unit);
        if (index.num_records < 0 || key.records_per_unit < 1 || index.unit_offsets.size() != (lines ? units : 0)) {
          continue;  // not what this code writes: rescan that file
        }
        loaded_[key.text()] = std::move(index);
      }
    } catch (const nlohmann::json::exception& e) {
      spdlog::warn("ignoring the input index cache {}: {}", path.string(), e.what());
      loaded_.clear();
    }
  }

  // The cached index of `key`, or a fresh scan through `scan`.
  template <typename Scan>
  const FileIndex& get(const FileKey& key, Scan scan) {
    auto& entry = used_[key.text()];
    entry.first = key;
    if (const auto it = loaded_.find(key.text()); it != loaded_.end()) {
      entry.second = it->second;
    } else {
      entry.second = scan();
      dirty_ = true;
    }
    return entry.second;
  }

  void save() const {
    if (dir_.empty() || (!dirty_ && used_.size() == loaded_.size())) return;
    nlohmann::json files = nlohmann::json::array();
    for (const auto& [text, entry] : used_) {
      const auto& [key, index] = entry;
      files.push_back({{"path", key.path}, {"size", key.size}, {"mtime_ns", key.mtime_ns},
                       {"kind", key.kind}, {"records_per_unit", key.records_per_unit},
                       {"num_records", index.num_records}, {"unit_offsets", index.unit_offsets}});
    }
    const nlohmann::json json = {{"version", kCacheVersion}, {"files", files}};
    std::error_code ec;
    fs::create_directories(dir_, ec);
    const fs::path path = fs::path(dir_) / kInputIndexCacheName;
    const fs::path temp = path.string() + ".tmp." + std::to_string(::getpid());
    {
      std::ofstream out(temp, std::ios::trunc);
      out << json.dump();
      if (!out.flush()) throw IoError("cannot write the input index cache", {.file = temp.string()});
    }
    fs::rename(temp, path, ec);
    if (ec) throw IoError("cannot rename the input index cache: " + ec.message(), {.file = path.string()});
  }

 private:
  std::string dir_;
  std::map<std::string, FileIndex> loaded_;
  std::map<std::string, std::pair<FileKey, FileIndex>> used_;
  bool dirty_ = false;
};

void check_options(const InputOptions& options) {
  if (options.records_per_unit < 1) {
    throw ConfigError("records_per_unit must be at least 1, got " + std::to_string(options.records_per_unit),
                      {.key = "input.records_per_unit"});
  }
  if (options.max_record_bytes < 1) {
    throw ConfigError("max_record_bytes must be at least 1", {.key = "input.max_record_bytes"});
  }
  if (options.field.empty()) throw ConfigError("the prompt field name is empty", {.key = "input.field"});
  if (options.format == InputFormat::kOpenAiBatch && options.mode == InputMode::kScore) {
    throw ConfigError("openai-batch inputs are generation requests; score mode cannot read them",
                      {.key = "input.format"}, "score from jsonl, text or hdf5-tokens");
  }
}

// FNV-1a, 64 bit: a stable digest (std::hash is not stable across builds).
class Fingerprint {
 public:
  void add(std::string_view text) {
    for (const char c : text) hash_ = (hash_ ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    hash_ = (hash_ ^ 0xFFu) * 1099511628211ull;  // separator: "ab","c" != "a","bc"
  }
  std::string hex() const {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash_));
    return buf;
  }

 private:
  uint64_t hash_ = 14695981039346656037ull;
};

}  // namespace

InputIndex index_inputs(const InputOptions& options, const std::string& cache_dir) {
  check_options(options);
  InputIndex index;
  index.files = expand_input_paths(options.paths);
  if (index.files.size() > static_cast<size_t>(INT32_MAX)) {
    throw ConfigError("too many input files", {.key = "input.paths"});
  }
  Fingerprint fingerprint;
  for (const auto& part : {std::string(input_format_name(options.format)),
                           std::string(options.mode == InputMode::kScore ? "score" : "generate"), options.field,
                           std::to_string(options.records_per_unit), std::to_string(options.max_record_bytes)}) {
    fingerprint.add(part);
  }

  IndexCache cache(cache_dir);
  const int64_t per_unit = options.records_per_unit;
  for (size_t f = 0; f < index.files.size(); ++f) {
    const std::string& path = index.files[f];
    const FileKey key = file_key(path, options);
    for (const auto& part : {path, std::to_string(key.size), std::to_string(key.mtime_ns)}) fingerprint.add(part);
    const FileIndex& file = cache.get(key, [&] {
      const auto start = std::chrono::steady_clock::now();
      FileIndex scanned = options.format == InputFormat::kHdf5Tokens ? scan_hdf5(path) : scan_lines(path, per_unit);
      const std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - start;
      spdlog::info("indexed {}: {} records in {:.1f} s", path, scanned.num_records, seconds.count());
      return scanned;
    });
    for (int64_t first = 0; first < file.num_records; first += per_unit) {
      const auto unit = static_cast<size_t>(first / per_unit);
      index.units.push_back(WorkUnit{
          .id = static_cast<int64_t>(index.units.size()),
          .file = static_cast<int32_t>(f),
          .first_index = index.num_records + first,
          .num_records = std::min(per_unit, file.num_records - first),
          .begin_offset = unit < file.unit_offsets.size() ? file.unit_offsets[unit] : 0,
          .first_record_in_file = first,
      });
    }
    index.num_records += file.num_records;
  }
  cache.save();
  index.fingerprint = fingerprint.hex();
  return index;
}

}  // namespace llmbatch
