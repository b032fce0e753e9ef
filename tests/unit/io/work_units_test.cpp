#include "io/work_units.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "core/error.h"
#include "input_test_files.h"
#include "io/input_source.h"

namespace llmbatch {
namespace {

using testing::ScratchDir;
using testing::write_input_file;

// Lines "f<file>-r<record>" with some empty lines, so content says where a
// record came from; `count` records, the last with or without a newline.
std::string numbered_lines(int file, int count, bool final_newline) {
  std::string data;
  for (int r = 0; r < count; ++r) {
    data += "f" + std::to_string(file) + "-r" + std::to_string(r) + std::string(static_cast<size_t>(r % 13), '.');
    if (r + 1 < count || final_newline) data += '\n';
  }
  return data;
}

struct Expected {
  std::string file;
  int64_t line = 0;
  std::string text;
};

// The reference: every file read whole and split on '\n'.
std::vector<Expected> naive_read(const std::vector<std::string>& paths, const std::vector<std::string>& contents) {
  std::vector<Expected> records;
  for (size_t f = 0; f < paths.size(); ++f) {
    size_t start = 0;
    int64_t line = 1;
    while (start < contents[f].size()) {
      size_t end = contents[f].find('\n', start);
      if (end == std::string::npos) end = contents[f].size();
      records.push_back({paths[f], line++, contents[f].substr(start, end - start)});
      start = end + 1;
    }
  }
  return records;
}

InputOptions text_options(const std::vector<std::string>& paths, int64_t records_per_unit) {
  InputOptions options;
  options.paths = paths;
  options.format = InputFormat::kText;
  options.records_per_unit = records_per_unit;
  return options;
}

// Files of 0, 1, 97 and 250 records over plain, gzip and zstd.
struct Corpus {
  std::vector<std::string> paths;
  std::vector<std::string> contents;
};

Corpus make_corpus(const ScratchDir& dir) {
  Corpus c;
  const std::vector<std::pair<std::string, int>> files = {
      {"a.txt", 97}, {"b.txt.gz", 250}, {"c.txt", 0}, {"d.txt.zst", 1}, {"e.txt.zst", 131}, {"f.txt", 5}};
  for (size_t f = 0; f < files.size(); ++f) {
    const std::string path = dir.path(files[f].first);
    const std::string data = numbered_lines(static_cast<int>(f), files[f].second, f % 2 == 0);
    write_input_file(path, data);
    c.paths.push_back(path);
    c.contents.push_back(data);
  }
  return c;
}

TEST(WorkUnits, UnitsCoverEveryRecordOnceAndReadLikeANaiveFullRead) {
  ScratchDir dir("units_property");
  const Corpus corpus = make_corpus(dir);
  const auto expected = naive_read(corpus.paths, corpus.contents);
  for (int64_t per_unit : {1, 3, 64, 1000}) {
    const auto options = text_options(corpus.paths, per_unit);
    const InputIndex index = index_inputs(options, "");
    ASSERT_EQ(index.files, corpus.paths);
    ASSERT_EQ(index.num_records, static_cast<int64_t>(expected.size()));
    // Units tile [0, N) in order, none empty, none larger than asked.
    int64_t next_index = 0;
    for (size_t u = 0; u < index.units.size(); ++u) {
      const WorkUnit& unit = index.units[u];
      EXPECT_EQ(unit.id, static_cast<int64_t>(u));
      EXPECT_EQ(unit.first_index, next_index);
      EXPECT_GE(unit.num_records, 1);
      EXPECT_LE(unit.num_records, per_unit);
      next_index += unit.num_records;
    }
    EXPECT_EQ(next_index, index.num_records);
    // Read the units in a shuffled order: each must stand alone.
    std::vector<size_t> order(index.units.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), std::mt19937(static_cast<uint32_t>(per_unit)));
    std::vector<int> seen(expected.size(), 0);
    for (const size_t u : order) {
      const WorkUnit& unit = index.units[u];
      auto source = InputSource::open(index, unit, options);
      for (int64_t k = 0; k < unit.num_records; ++k) {
        const auto record = source->next();
        ASSERT_TRUE(record);
        const auto i = static_cast<size_t>(record->index);
        ASSERT_EQ(record->index, unit.first_index + k);
        ASSERT_LT(i, expected.size());
        ++seen[i];
        EXPECT_EQ(index.files[static_cast<size_t>(unit.file)], expected[i].file);
        EXPECT_EQ(unit.first_record_in_file + k + 1, expected[i].line);
        EXPECT_EQ(record->prompt, expected[i].text);
        EXPECT_EQ(record->id, std::to_string(i));
        EXPECT_EQ(record->error, "") << record->error;
      }
      EXPECT_FALSE(source->next());
    }
    EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; })) << per_unit;
  }
}

TEST(WorkUnits, IndexCacheIsReusedWhileFilesAreUnchanged) {
  ScratchDir dir("units_cache");
  const std::string path = dir.path("in.txt");
  write_input_file(path, "a\nb\nc\nd\n");
  const auto options = text_options({path}, 2);
  const std::string cache_dir = dir.path("out");
  const InputIndex first = index_inputs(options, cache_dir);
  EXPECT_EQ(first.num_records, 4);
  ASSERT_TRUE(std::filesystem::exists(std::filesystem::path(cache_dir) / kInputIndexCacheName));

  // Same size, same mtime, different line count: only a cache hit still
  // says 4 records (a rescan would count 2), which shows nothing was rescanned.
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  write_input_file(path, "abc\ndef\n");
  const timespec times[2] = {st.st_atim, st.st_mtim};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  const InputIndex cached = index_inputs(options, cache_dir);
  EXPECT_EQ(cached.num_records, 4);
  EXPECT_EQ(cached.fingerprint, first.fingerprint);
  EXPECT_EQ(index_inputs(options, "").num_records, 2) << "without a cache the file is scanned";

  // A new mtime invalidates the entry.
  const timespec later[2] = {st.st_atim, {st.st_mtim.tv_sec + 10, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), later, 0), 0);
  const InputIndex rescanned = index_inputs(options, cache_dir);
  EXPECT_EQ(rescanned.num_records, 2);
  EXPECT_NE(rescanned.fingerprint, first.fingerprint);

  // So does a new size, and another records_per_unit gets its own entry.
  write_input_file(path, "1\n2\n3\n4\n5\n6\n7\n");
  EXPECT_EQ(index_inputs(options, cache_dir).num_records, 7);
  const InputIndex other = index_inputs(text_options({path}, 3), cache_dir);
  EXPECT_EQ(other.units.size(), 3u);
  EXPECT_EQ(other.units[2].begin_offset, 12u);  // "1\n".."6\n"
}

TEST(WorkUnits, CorruptCacheIsIgnored) {
  ScratchDir dir("units_cache_corrupt");
  const std::string path = dir.path("in.txt");
  write_input_file(path, "a\nb\nc\n");
  const std::string cache_dir = dir.path("out");
  std::filesystem::create_directories(cache_dir);
  for (const char* junk : {"not json", R"({"version": 1, "files": [{"path": 1}]})", R"({"version": 99})"}) {
    std::ofstream(std::filesystem::path(cache_dir) / kInputIndexCacheName) << junk;
    EXPECT_EQ(index_inputs(text_options({path}, 2), cache_dir).num_records, 3);
  }
}

TEST(WorkUnits, FingerprintFollowsFilesAndOptions) {
  ScratchDir dir("units_fingerprint");
  const std::string path = dir.path("in.jsonl");
  write_input_file(path, "{\"prompt\": \"a\"}\n");
  InputOptions options = text_options({path}, 64);
  const std::string base = index_inputs(options, "").fingerprint;
  EXPECT_EQ(base.size(), 16u);
  EXPECT_EQ(index_inputs(options, "").fingerprint, base);
  for (int change = 0; change < 4; ++change) {
    InputOptions changed = options;
    if (change == 0) changed.format = InputFormat::kJsonl;
    if (change == 1) changed.records_per_unit = 8;
    if (change == 2) changed.field = "question";
    if (change == 3) changed.max_record_bytes = 1000;
    EXPECT_NE(index_inputs(changed, "").fingerprint, base) << change;
  }
}

TEST(WorkUnits, BadOptionsAreConfigErrors) {
  ScratchDir dir("units_options");
  const std::string path = dir.path("in.jsonl");
  write_input_file(path, "{}\n");
  auto expect_key = [](const InputOptions& options, const std::string& key) {
    try {
      index_inputs(options, "");
      FAIL() << key;
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.context().key, key);
    }
  };
  InputOptions options = text_options({path}, 0);
  expect_key(options, "input.records_per_unit");
  options.records_per_unit = 4;
  options.field = "";
  expect_key(options, "input.field");
  options.field = "prompt";
  options.format = InputFormat::kOpenAiBatch;
  options.mode = InputMode::kScore;
  expect_key(options, "input.format");
  options.mode = InputMode::kGenerate;
  options.paths = {dir.path("*.parquet")};
  expect_key(options, "input.paths");
}

TEST(WorkUnits, Hdf5TokensUnitsAndBadFiles) {
  ScratchDir dir("units_hdf5");
  testing::write_hdf5_tokens(dir.path("a.h5"), {.offsets = {0, 1, 2, 3, 4, 5}, .ids = {1, 2, 3, 4, 5}});
  testing::write_hdf5_tokens(dir.path("b.h5"), {.offsets = {0, 2, 4}, .ids = {6, 7, 8, 9}});
  InputOptions options;
  options.paths = {dir.path("*.h5")};
  options.format = InputFormat::kHdf5Tokens;
  options.records_per_unit = 2;
  const InputIndex index = index_inputs(options, dir.path("out"));
  EXPECT_EQ(index.num_records, 7);
  ASSERT_EQ(index.units.size(), 4u);  // a: [0,2) [2,4) [4,5); b: [0,2)
  EXPECT_EQ(index.units[2].num_records, 1);
  EXPECT_EQ(index.units[3].file, 1);
  EXPECT_EQ(index.units[3].first_index, 5);
  EXPECT_EQ(index.units[3].first_record_in_file, 0);
  EXPECT_EQ(index_inputs(options, dir.path("out")).num_records, 7);  // from the cache

  testing::write_hdf5_tokens(dir.path("b.h5"), {.offsets = {0, 3, 2}, .ids = {6, 7}});
  try {
    index_inputs(options, dir.path("out"));
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.context().file, dir.path("b.h5"));
  }
}

TEST(WorkUnits, CorruptCompressedFileFailsIndexingNamingIt) {
  ScratchDir dir("units_corrupt");
  const std::string path = dir.path("in.jsonl.gz");
  std::ofstream(path) << "plain text, not gzip\n";
  InputOptions options;
  options.paths = {path};
  try {
    index_inputs(options, "");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.context().file, path);
  }
}

}  // namespace
}  // namespace llmbatch
