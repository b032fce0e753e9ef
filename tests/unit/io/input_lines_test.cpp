#include "io/input_lines.h"

#include <random>

#include <gtest/gtest.h>

#include "core/error.h"
#include "input_test_files.h"

namespace llmbatch {
namespace {

using testing::ScratchDir;
using testing::write_input_file;

// The reference: split on '\n'; the newline ending the data starts no line.
std::vector<std::string> naive_lines(const std::string& data) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < data.size()) {
    size_t end = data.find('\n', start);
    if (end == std::string::npos) end = data.size();
    lines.push_back(data.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string strip_cr(std::string s) {
  if (!s.empty() && s.back() == '\r') s.pop_back();
  return s;
}

std::string random_lines(size_t count, uint32_t seed, bool final_newline) {
  std::mt19937 rng(seed);
  std::string data;
  for (size_t i = 0; i < count; ++i) {
    const size_t length = rng() % 7 == 0 ? 0 : rng() % 300;
    for (size_t k = 0; k < length; ++k) data += "abc {}\"é"[rng() % 8];
    if (rng() % 5 == 0) data += '\r';
    if (i + 1 < count || final_newline) data += '\n';
  }
  return data;
}

class LineReaderTest : public ::testing::TestWithParam<std::string> {};

TEST_P(LineReaderTest, MatchesNaiveSplitWithOffsets) {
  ScratchDir dir("lines_naive");
  for (bool final_newline : {true, false}) {
    const std::string data = random_lines(20'011, 17 + final_newline, final_newline);
    const std::string path = dir.path("data" + GetParam());
    write_input_file(path, data);
    LineReader reader(open_byte_reader(path), 1 << 20);
    size_t expected_offset = 0;
    for (const auto& expected : naive_lines(data)) {
      ASSERT_EQ(reader.offset(), expected_offset);
      const auto line = reader.next();
      ASSERT_TRUE(line);
      ASSERT_FALSE(line->too_long);
      ASSERT_EQ(line->text, strip_cr(expected));
      ASSERT_EQ(line->length, expected.size());
      expected_offset += expected.size() + 1;
    }
    EXPECT_FALSE(reader.next());
    EXPECT_FALSE(reader.next());
  }
}

TEST_P(LineReaderTest, TooLongLinesAreSkippedAndTheNextLineReads) {
  ScratchDir dir("lines_long");
  const std::string path = dir.path("data" + GetParam());
  // Lines of 99, 100 and 101 bytes with a cap of 100; then one far larger
  // than the read buffer; then a long last line without a newline.
  const std::string data = std::string(99, 'a') + "\n" + std::string(100, 'b') + "\n" + std::string(101, 'c') +
                           "\nshort\n" + std::string(3'000'000, 'd') + "\nafter\n" + std::string(150, 'e');
  write_input_file(path, data);
  LineReader reader(open_byte_reader(path), 100);
  const std::vector<std::pair<uint64_t, bool>> expected = {{99, false}, {100, false}, {101, true}, {5, false},
                                                           {3'000'000, true}, {5, false}, {150, true}};
  for (const auto& [length, too_long] : expected) {
    const auto line = reader.next();
    ASSERT_TRUE(line);
    EXPECT_EQ(line->length, length);
    EXPECT_EQ(line->too_long, too_long);
    EXPECT_EQ(line->text.size(), too_long ? 0 : length);
  }
  EXPECT_FALSE(reader.next());
}

TEST_P(LineReaderTest, LineLongerThanTheBufferButUnderTheCapIsWhole) {
  ScratchDir dir("lines_big");
  const std::string path = dir.path("data" + GetParam());
  const std::string big(5'000'000, 'x');
  write_input_file(path, "a\n" + big + "\nb\n");
  LineReader reader(open_byte_reader(path), 16 << 20);
  EXPECT_EQ(reader.next()->text, "a");
  EXPECT_EQ(reader.next()->text, big);
  EXPECT_EQ(reader.next()->text, "b");
  EXPECT_FALSE(reader.next());
}

TEST_P(LineReaderTest, SkipToLandsOnTheLineAtThatOffset) {
  ScratchDir dir("lines_skip");
  const std::string path = dir.path("data" + GetParam());
  const std::string data = random_lines(5000, 5, true);
  write_input_file(path, data);
  const auto lines = naive_lines(data);
  std::vector<size_t> offsets = {0};
  for (const auto& l : lines) offsets.push_back(offsets.back() + l.size() + 1);
  LineReader reader(open_byte_reader(path), 1 << 20);
  for (size_t target : {size_t{0}, size_t{1}, size_t{3}, size_t{700}, size_t{701}, size_t{4999}}) {
    reader.skip_to(offsets[target]);
    EXPECT_EQ(reader.offset(), offsets[target]);
    ASSERT_EQ(reader.next()->text, strip_cr(lines[target])) << target;
  }
  EXPECT_FALSE(reader.next());
  EXPECT_THROW(reader.skip_to(0), InternalError);
}

INSTANTIATE_TEST_SUITE_P(Extensions, LineReaderTest, ::testing::Values(".txt", ".gz", ".zst"),
                         [](const auto& info) { return info.param.substr(1); });

}  // namespace
}  // namespace llmbatch
