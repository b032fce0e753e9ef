#include "io/compressed_reader.h"

#include <zstd.h>

#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "core/error.h"
#include "input_test_files.h"

namespace llmbatch {
namespace {

using testing::ScratchDir;
using testing::write_input_file;

// Text-like bytes (compressible but not trivially) of a given size.
std::string sample_bytes(size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(size, ' ');
  for (auto& c : s) c = "abcdefgh \n{}\"xyz"[rng() % 16];
  return s;
}

std::string read_all(ByteReader& reader, size_t chunk) {
  std::string out;
  std::string buf(chunk, '\0');
  while (const size_t n = reader.read(buf.data(), buf.size())) out.append(buf.data(), n);
  return out;
}

std::string raw_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write_raw(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

class CompressedReaderTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CompressedReaderTest, ReadsBackWhatWasWrittenInAnyChunkSize) {
  ScratchDir dir("compressed_roundtrip");
  const std::string path = dir.path("data" + GetParam());
  const std::string data = sample_bytes(3'000'017, 7);  // spans many internal buffers
  write_input_file(path, data);
  for (size_t chunk : {size_t{1} << 20, size_t{4093}, size_t{1}}) {
    if (chunk == 1) {  // byte at a time over a prefix only: slow otherwise
      auto reader = open_byte_reader(path);
      std::string head(1000, '\0');
      for (char& c : head) ASSERT_EQ(reader->read(&c, 1), 1u);
      EXPECT_EQ(head, data.substr(0, 1000));
      continue;
    }
    auto reader = open_byte_reader(path);
    EXPECT_EQ(read_all(*reader, chunk), data);
    EXPECT_EQ(reader->position(), data.size());
  }
}

TEST_P(CompressedReaderTest, SkipMovesByDecompressedBytes) {
  ScratchDir dir("compressed_skip");
  const std::string path = dir.path("data" + GetParam());
  const std::string data = sample_bytes(500'003, 11);
  write_input_file(path, data);
  auto reader = open_byte_reader(path);
  reader->skip(123'457);
  EXPECT_EQ(reader->position(), 123'457u);
  std::string buf(10, '\0');
  ASSERT_EQ(reader->read(buf.data(), buf.size()), 10u);
  EXPECT_EQ(buf, data.substr(123'457, 10));
  reader->skip(10'000'000);  // past the end: stops there
  EXPECT_EQ(reader->position(), data.size());
  EXPECT_EQ(reader->read(buf.data(), buf.size()), 0u);
}

TEST_P(CompressedReaderTest, EmptyFileHasNoBytes) {
  ScratchDir dir("compressed_empty");
  const std::string path = dir.path("empty" + GetParam());
  write_input_file(path, "");
  auto reader = open_byte_reader(path);
  char c = 0;
  EXPECT_EQ(reader->read(&c, 1), 0u);
}

TEST_P(CompressedReaderTest, MissingFileIsIoErrorNamingIt) {
  const std::string path = "/nonexistent/llmbatch/data" + GetParam();
  try {
    open_byte_reader(path);
    FAIL();
  } catch (const IoError& e) {
    EXPECT_EQ(e.context().file, path);
  }
}

INSTANTIATE_TEST_SUITE_P(Extensions, CompressedReaderTest, ::testing::Values(".jsonl", ".gz", ".zst"),
                         [](const auto& info) { return info.param == ".jsonl" ? std::string("plain") : info.param.substr(1); });

TEST(CompressionOf, ChoosesByExtension) {
  EXPECT_EQ(compression_of("a.jsonl.gz"), Compression::kGzip);
  EXPECT_EQ(compression_of("a.txt.zst"), Compression::kZstd);
  EXPECT_EQ(compression_of("a.jsonl"), Compression::kNone);
  EXPECT_EQ(compression_of("a.gzip"), Compression::kNone);
}

TEST(CompressedReader, ConcatenatedGzipMembersAndZstdFramesReadAsOneStream) {
  ScratchDir dir("compressed_multi");
  write_input_file(dir.path("a.gz"), "first\n");
  write_input_file(dir.path("b.gz"), "second\n");
  write_raw(dir.path("ab.gz"), raw_file(dir.path("a.gz")) + raw_file(dir.path("b.gz")));
  EXPECT_EQ(read_all(*open_byte_reader(dir.path("ab.gz")), 4096), "first\nsecond\n");
  write_input_file(dir.path("a.zst"), "first\n");
  write_input_file(dir.path("b.zst"), "second\n");
  write_raw(dir.path("ab.zst"), raw_file(dir.path("a.zst")) + raw_file(dir.path("b.zst")));
  EXPECT_EQ(read_all(*open_byte_reader(dir.path("ab.zst")), 4096), "first\nsecond\n");
}

// A corrupt stream is an InputError naming the file, whichever way it is broken.
void expect_input_error(const std::string& path) {
  try {
    auto reader = open_byte_reader(path);
    read_all(*reader, 1 << 16);
    FAIL() << path << " read without error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.context().file, path);
  }
}

TEST(CompressedReader, TruncatedStreamsAreInputErrors) {
  ScratchDir dir("compressed_truncated");
  const std::string data = sample_bytes(200'000, 3);
  for (const char* ext : {".gz", ".zst"}) {
    const std::string whole = dir.path(std::string("whole") + ext);
    write_input_file(whole, data);
    const std::string bytes = raw_file(whole);
    const std::string cut = dir.path(std::string("cut") + ext);
    write_raw(cut, bytes.substr(0, bytes.size() / 2));
    expect_input_error(cut);
  }
}

TEST(CompressedReader, CorruptStreamsAreInputErrors) {
  ScratchDir dir("compressed_corrupt");
  const std::string data = sample_bytes(200'000, 5);
  for (const char* ext : {".gz", ".zst"}) {
    const std::string whole = dir.path(std::string("whole") + ext);
    write_input_file(whole, data);
    std::string bytes = raw_file(whole);
    for (size_t i = bytes.size() / 3; i < bytes.size() / 3 + 64; ++i) bytes[i] = static_cast<char>(bytes[i] ^ 0x5A);
    const std::string bad = dir.path(std::string("bad") + ext);
    write_raw(bad, bytes);
    expect_input_error(bad);
  }
}

TEST(CompressedReader, PlainTextWithACompressedExtensionIsInputError) {
  ScratchDir dir("compressed_wrong");
  write_raw(dir.path("plain.gz"), "{\"prompt\": \"hi\"}\n");
  write_raw(dir.path("plain.zst"), "{\"prompt\": \"hi\"}\n");
  expect_input_error(dir.path("plain.gz"));
  expect_input_error(dir.path("plain.zst"));
}

}  // namespace
}  // namespace llmbatch
