#include "core/mapped_file.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/error.h"

namespace llmbatch {
namespace {

TEST(MappedFileTest, MapsContents) {
  const auto path = std::filesystem::temp_directory_path() / "llmbatch_mapped_file_test.bin";
  std::ofstream(path, std::ios::binary) << "hello";
  const MappedFile f(path.string());
  ASSERT_EQ(f.size(), 5u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(f.data()), 5), "hello");
  std::filesystem::remove(path);
}

TEST(MappedFileTest, EmptyFileHasNoData) {
  const auto path = std::filesystem::temp_directory_path() / "llmbatch_mapped_file_empty.bin";
  std::ofstream(path, std::ios::binary).close();
  const MappedFile f(path.string());
  EXPECT_EQ(f.size(), 0u);
  EXPECT_EQ(f.data(), nullptr);
  std::filesystem::remove(path);
}

TEST(MappedFileTest, MissingFileAndDirectoryAreIoErrors) {
  EXPECT_THROW(MappedFile("/nonexistent/llmbatch/file"), IoError);
  EXPECT_THROW(MappedFile(std::filesystem::temp_directory_path().string()), IoError);
}

}  // namespace
}  // namespace llmbatch
