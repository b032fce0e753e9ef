#include "io/segment_fs.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "core/error.h"
#include "segment_test_rows.h"

namespace llmbatch {
namespace {

using testing::TempDir;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::span<const uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(Crc32, MatchesTheStandardCheckValues) {
  // CRC-32/ISO-HDLC check value (the catalogue of parametrised CRCs), and
  // zlib's crc32(0, "The quick brown fox jumps over the lazy dog").
  EXPECT_EQ(crc32_update(bytes("123456789")), 0xCBF43926u);
  EXPECT_EQ(crc32_update(bytes("The quick brown fox jumps over the lazy dog")), 0x414FA339u);
  EXPECT_EQ(crc32_update(bytes("")), 0u);
  // Continuing over pieces gives the CRC of the whole.
  EXPECT_EQ(crc32_update(bytes("6789"), crc32_update(bytes("12345"))), 0xCBF43926u);
}

TEST(Crc32, FileCrcCoversEveryByteAcrossReadPieces) {
  TempDir dir("segfs");
  std::string content(3 * (1 << 20) + 17, '\0');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 31 + (i >> 11));
  std::ofstream(dir.file("f"), std::ios::binary) << content;
  EXPECT_EQ(file_crc32(dir.file("f")), crc32_update(bytes(content)));
  EXPECT_THROW(file_crc32(dir.file("missing")), IoError);
}

TEST(DurableFiles, WriteAtomicallyReplacesAndLeavesNoTemporary) {
  TempDir dir("segfs");
  const std::string path = dir.file("status.json");
  write_file_atomically(path, "first");
  write_file_atomically(path, "second, longer");
  EXPECT_EQ(slurp(path), "second, longer");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_THROW(write_file_atomically(dir.file("no/dir/x"), "y"), IoError);
}

TEST(DurableFiles, AppendLineAddsWholeLines) {
  TempDir dir("segfs");
  const std::string path = dir.file("j.jsonl");
  append_line_durably(path, "a\n");
  append_line_durably(path, "bc\n");
  EXPECT_EQ(slurp(path), "a\nbc\n");
  EXPECT_THROW(append_line_durably(path, "no newline"), InternalError);
}

TEST(DurableFiles, RenameAndFsync) {
  TempDir dir("segfs");
  std::ofstream(dir.file("a")) << "x";
  fsync_file(dir.file("a"));
  fsync_directory(dir.str());
  rename_durably(dir.file("a"), dir.file("b"));
  EXPECT_FALSE(std::filesystem::exists(dir.file("a")));
  EXPECT_EQ(slurp(dir.file("b")), "x");
  EXPECT_THROW(rename_durably(dir.file("a"), dir.file("c")), IoError);
  EXPECT_THROW(fsync_file(dir.file("missing")), IoError);
  EXPECT_THROW(fsync_directory(dir.file("b")), IoError);  // not a directory
}

}  // namespace
}  // namespace llmbatch
