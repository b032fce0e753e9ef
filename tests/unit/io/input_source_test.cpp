#include "io/input_source.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/error.h"
#include "input_test_files.h"

namespace llmbatch {
namespace {

using testing::ScratchDir;
using testing::write_input_file;

std::vector<InputRecord> read_everything(const InputIndex& index, const InputOptions& options) {
  std::vector<InputRecord> records;
  for (const auto& unit : index.units) {
    auto source = InputSource::open(index, unit, options);
    while (auto record = source->next()) records.push_back(std::move(*record));
  }
  return records;
}

// Good and bad records interleaved: every bad one is an error row naming
// its line, and the record after it reads fine.
TEST(InputSource, BadRecordsBecomeErrorRowsAndReadingGoesOn) {
  ScratchDir dir("source_bad");
  const std::vector<std::pair<std::string, std::string>> lines = {
      {R"({"id": "ok1", "prompt": "first"})", ""},
      {R"({"prompt": "unterminated)", "invalid JSON"},
      {R"({"id": "ok2", "prompt": "second"})", ""},
      {R"({"text": "no prompt"})", "missing 'prompt'"},
      {R"({"prompt": ["a"]})", "must be a string"},
      {R"({"prompt": ""})", "is empty"},
      {R"({"prompt": "x", "sampling": "hot"})", "'sampling' must be an object"},
      {"{\"prompt\": \"" + std::string(300, 'y') + "\"}", "longer than input.max_record_bytes"},
      {"", "empty line"},
      {R"({"id": "ok3", "prompt": "third"})", ""},
  };
  std::string data;
  for (const auto& [line, error] : lines) data += line + "\n";
  for (const char* name : {"in.jsonl", "in.jsonl.gz", "in.jsonl.zst"}) {
    const std::string path = dir.path(name);
    write_input_file(path, data);
    for (int64_t per_unit : {1, 4, 100}) {
      InputOptions options;
      options.paths = {path};
      options.max_record_bytes = 200;
      options.records_per_unit = per_unit;
      const auto records = read_everything(index_inputs(options, ""), options);
      ASSERT_EQ(records.size(), lines.size());
      for (size_t i = 0; i < lines.size(); ++i) {
        const std::string& error = lines[i].second;
        EXPECT_EQ(records[i].index, static_cast<int64_t>(i));
        if (error.empty()) {
          EXPECT_EQ(records[i].error, "");
          EXPECT_EQ(records[i].id, "ok" + std::to_string(1 + (i == 2) + 2 * (i == 9)));
        } else {
          EXPECT_TRUE(records[i].error.starts_with(path + ":" + std::to_string(i + 1) + ": ")) << records[i].error;
          EXPECT_NE(records[i].error.find(error), std::string::npos) << records[i].error;
        }
      }
      EXPECT_EQ(records[9].prompt, "third");
    }
  }
}

TEST(InputSource, OpenAiBatchFile) {
  ScratchDir dir("source_batch");
  const std::string path = dir.path("batch.jsonl");
  write_input_file(path,
                   R"({"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 3}})"
                   "\n"
                   R"({"custom_id": "b", "body": {"prompt": "Once upon", "temperature": 0}})"
                   "\n");
  InputOptions options;
  options.paths = {path};
  options.format = InputFormat::kOpenAiBatch;
  const auto records = read_everything(index_inputs(options, ""), options);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].id, "a");
  EXPECT_EQ(records[0].kind, RecordKind::kMessages);
  EXPECT_EQ(records[0].sampling, nlohmann::json::parse(R"({"max_tokens": 3})"));
  EXPECT_EQ(records[1].id, "b");
  EXPECT_EQ(records[1].prompt, "Once upon");
  EXPECT_EQ(records[1].sampling, nlohmann::json::parse(R"({"temperature": 0})"));
}

TEST(InputSource, ScoreModeJsonlAcrossFilesHasGlobalIndices) {
  ScratchDir dir("source_score");
  write_input_file(dir.path("1.jsonl"), "{\"text\": \"a b c\"}\n{\"context\": \"x\", \"continuation\": \" y\"}\n");
  write_input_file(dir.path("2.jsonl.gz"), "{\"id\": \"z\", \"text\": \"d\"}\n");
  InputOptions options;
  options.paths = {dir.path("1.jsonl"), dir.path("2.jsonl.gz")};
  options.mode = InputMode::kScore;
  const auto records = read_everything(index_inputs(options, ""), options);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].kind, RecordKind::kScoreText);
  EXPECT_EQ(records[1].kind, RecordKind::kContinuation);
  EXPECT_EQ(records[1].continuation, " y");
  EXPECT_EQ(records[2].index, 2);
  EXPECT_EQ(records[2].id, "z");
}

TEST(InputSource, Hdf5TokensRecords) {
  ScratchDir dir("source_hdf5");
  const std::string path = dir.path("t.h5");
  // [1 2], [], [-1 5], [2^31], [7]
  testing::write_hdf5_tokens(path, {.offsets = {0, 2, 2, 4, 5, 6},
                                    .ids = {1, 2, -1, 5, int64_t{1} << 31, 7},
                                    .record_ids = std::vector<std::string>{"r0", "r1", "r2", "", "r4"}});
  for (InputMode mode : {InputMode::kGenerate, InputMode::kScore}) {
    InputOptions options;
    options.paths = {path};
    options.format = InputFormat::kHdf5Tokens;
    options.mode = mode;
    options.records_per_unit = 2;
    const auto records = read_everything(index_inputs(options, ""), options);
    ASSERT_EQ(records.size(), 5u);
    for (const auto& r : records) EXPECT_EQ(r.kind, RecordKind::kTokens);
    EXPECT_EQ(records[0].prompt_ids, (std::vector<TokenId>{1, 2}));
    EXPECT_EQ(records[0].id, "r0");
    EXPECT_EQ(records[0].error, "");
    EXPECT_NE(records[1].error.find("record 1: empty prompt"), std::string::npos) << records[1].error;
    EXPECT_NE(records[2].error.find("record 2: token id -1 is out of range"), std::string::npos);
    EXPECT_NE(records[3].error.find("token id 2147483648 is out of range"), std::string::npos);
    EXPECT_EQ(records[3].id, "3") << "an empty /ids entry falls back to the index";
    EXPECT_EQ(records[4].prompt_ids, (std::vector<TokenId>{7}));
    EXPECT_EQ(records[4].error, "");
  }
}

TEST(InputSource, PreviousSourceStreamIsReusedForLaterUnitsOfTheSameFile) {
  ScratchDir dir("source_reuse");
  std::string data;
  for (int i = 0; i < 1000; ++i) data += "line " + std::to_string(i) + "\n";
  write_input_file(dir.path("a.txt.zst"), data);
  write_input_file(dir.path("b.txt.gz"), "b0\nb1\n");
  InputOptions options;
  options.paths = {dir.path("a.txt.zst"), dir.path("b.txt.gz")};
  options.format = InputFormat::kText;
  options.records_per_unit = 7;
  const InputIndex index = index_inputs(options, "");
  // Units in increasing order, some skipped, a unit left half-read, a
  // change of file, then a step backwards (the stream cannot serve it).
  const std::vector<size_t> order = {0, 3, 4, 90, 142, 143, 5};
  std::unique_ptr<InputSource> previous;
  for (const size_t u : order) {
    const WorkUnit& unit = index.units.at(u);
    auto source = InputSource::open(index, unit, options, std::move(previous));
    const int64_t to_read = u == 4 ? 3 : unit.num_records;
    for (int64_t k = 0; k < to_read; ++k) {
      const auto record = source->next();
      ASSERT_TRUE(record);
      EXPECT_EQ(record->index, unit.first_index + k);
      const std::string expected = unit.file == 0 ? "line " + std::to_string(record->index)
                                                  : "b" + std::to_string(unit.first_record_in_file + k);
      EXPECT_EQ(record->prompt, expected);
    }
    previous = std::move(source);
  }
}

TEST(InputSource, FileThatShrankSinceIndexingIsInputError) {
  ScratchDir dir("source_shrunk");
  const std::string path = dir.path("in.txt");
  write_input_file(path, "a\nb\nc\nd\n");
  InputOptions options;
  options.paths = {path};
  options.format = InputFormat::kText;
  const InputIndex index = index_inputs(options, "");
  write_input_file(path, "a\nb\n");
  auto source = InputSource::open(index, index.units[0], options);
  EXPECT_TRUE(source->next());
  EXPECT_TRUE(source->next());
  try {
    source->next();
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.context().file, path);
    EXPECT_NE(std::string(e.what()).find("changed since indexing"), std::string::npos);
  }
}

TEST(InputSource, CorruptStreamAfterIndexingIsInputErrorNotARecord) {
  ScratchDir dir("source_corrupt");
  const std::string path = dir.path("in.txt.gz");
  std::string data;
  for (int i = 0; i < 20000; ++i) data += "prompt number " + std::to_string(i * 7919) + "\n";
  write_input_file(path, data);
  InputOptions options;
  options.paths = {path};
  options.format = InputFormat::kText;
  options.records_per_unit = 100000;
  const InputIndex index = index_inputs(options, "");
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() / 2);
  auto source = InputSource::open(index, index.units[0], options);
  EXPECT_THROW(while (source->next()) {}, InputError);
}

}  // namespace
}  // namespace llmbatch
