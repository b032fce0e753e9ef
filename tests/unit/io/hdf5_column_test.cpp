#include "io/hdf5_column.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "segment_test_rows.h"

namespace llmbatch {
namespace {

using testing::TempDir;

template <typename T>
void put(H5Column& c, std::vector<T> v) {
  c.append(std::span<const T>(v));
}

TEST(H5Column, NumericColumnsGrowByAppendAndReadAnyRange) {
  TempDir dir("h5column");
  const std::string path = dir.file("c.h5");
  std::vector<int64_t> big(20000);  // several 64 KiB chunks
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<int64_t>(i * i) - 7;
  {
    H5Id file = h5_file_create(path);
    auto i64 = H5Column::create<int64_t>(file.get(), "i64", path);
    put(i64, std::vector<int64_t>(big.begin(), big.begin() + 17));
    put(i64, std::vector<int64_t>{});
    put(i64, std::vector<int64_t>(big.begin() + 17, big.end()));
    EXPECT_EQ(i64.size(), 20000);
    auto f32 = H5Column::create<float>(file.get(), "f32", path);
    put(f32, std::vector<float>{0.1f, -1e-30f, 3.0e38f});
    auto f64 = H5Column::create<double>(file.get(), "f64", path);
    put(f64, std::vector<double>{0.1, -2.5});
    auto u8 = H5Column::create<uint8_t>(file.get(), "u8", path);
    put(u8, std::vector<uint8_t>{0, 1, 255});
    auto i32 = H5Column::create<int32_t>(file.get(), "i32", path);
    put(i32, std::vector<int32_t>{-5, INT32_MAX});
    H5Column::create<int32_t>(file.get(), "empty", path);
  }
  const H5Id file = h5_file_open_read(path);
  const hid_t f = file.get();
  const H5ColumnReader i64(f, "i64", path);  // one open reader, many ranges
  EXPECT_EQ(i64.size(), 20000);
  EXPECT_EQ(i64.read<int64_t>(0, 20000), big);
  for (int64_t begin : {16383, 0, 19999, 8000}) {
    EXPECT_EQ(i64.read<int64_t>(begin, begin + 1), std::vector<int64_t>{big[begin]});
  }
  EXPECT_EQ(i64.read<int64_t>(16383, 16386), std::vector<int64_t>(big.begin() + 16383, big.begin() + 16386));
  EXPECT_EQ(H5ColumnReader(f, "f32", path).read<float>(0, 3), (std::vector<float>{0.1f, -1e-30f, 3.0e38f}));
  EXPECT_EQ(H5ColumnReader(f, "f64", path).read<double>(1, 2), std::vector<double>{-2.5});
  EXPECT_EQ(H5ColumnReader(f, "u8", path).read<uint8_t>(0, 3), (std::vector<uint8_t>{0, 1, 255}));
  EXPECT_EQ(H5ColumnReader(f, "i32", path).read<int32_t>(0, 2), (std::vector<int32_t>{-5, INT32_MAX}));
  // A wider integer type reads a narrower column.
  EXPECT_EQ(H5ColumnReader(f, "i32", path).read<int64_t>(0, 2), (std::vector<int64_t>{-5, INT32_MAX}));
  EXPECT_EQ(H5ColumnReader(f, "empty", path).size(), 0);
  EXPECT_TRUE(H5ColumnReader(f, "empty", path).read<int32_t>(0, 0).empty());
}

TEST(H5Column, ReadsOutsideTheDataOrOfTheWrongKindAreIoErrors) {
  TempDir dir("h5column");
  const std::string path = dir.file("c.h5");
  {
    H5Id file = h5_file_create(path);
    auto n = H5Column::create<int32_t>(file.get(), "n", path);
    put(n, std::vector<int32_t>{1, 2});
    H5Column::create_strings(file.get(), "s", path).append_strings(std::vector<std::string>{"a"});
  }
  const H5Id file = h5_file_open_read(path);
  EXPECT_THROW(H5ColumnReader(file.get(), "n", path).read<int32_t>(1, 3), IoError);
  EXPECT_THROW(H5ColumnReader(file.get(), "missing", path).read<int32_t>(0, 0), IoError);
  EXPECT_THROW(H5ColumnReader(file.get(), "group/missing", path).size(), IoError);
  EXPECT_THROW(H5ColumnReader(file.get(), "s", path).read<int32_t>(0, 1), IoError);
  EXPECT_THROW(H5ColumnReader(file.get(), "n", path).read_strings(0, 1), IoError);
}

TEST(H5Column, StringsAreUtf8AndNulBecomesReplacementCharacter) {
  TempDir dir("h5column");
  const std::string path = dir.file("s.h5");
  const std::vector<std::string> values = {"", "plain", "héllo 世界 🙂", std::string(100000, 'x')};
  {
    H5Id file = h5_file_create(path);
    auto s = H5Column::create_strings(file.get(), "s", path);
    s.append_strings(values);
    s.append_strings(std::vector<std::string>{std::string("a\0b", 3)});
  }
  const H5Id file = h5_file_open_read(path);
  auto read = H5ColumnReader(file.get(), "s", path).read_strings(0, 5);
  EXPECT_EQ(std::vector<std::string>(read.begin(), read.begin() + 4), values);
  EXPECT_EQ(read[4], "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(H5ColumnReader(file.get(), "s", path).read_strings(2, 3), std::vector<std::string>{values[2]});
}

TEST(H5Attributes, StringAndIntegerAttributesRoundTrip) {
  TempDir dir("h5column");
  const std::string path = dir.file("a.h5");
  {
    H5Id file = h5_file_create(path);
    h5_write_attribute(file.get(), "job_yaml", std::string("model: {path: /m}\nmode: generate\n"), path);
    h5_write_attribute(file.get(), "name", std::string("wörld"), path);
    h5_write_attribute(file.get(), "rows", int64_t{1} << 40, path);
  }
  const H5Id file = h5_file_open_read(path);
  const auto strings = h5_read_string_attributes(file.get(), path);
  EXPECT_EQ(strings, (std::map<std::string, std::string>{{"job_yaml", "model: {path: /m}\nmode: generate\n"},
                                                         {"name", "wörld"}}));
  EXPECT_EQ(h5_read_int_attribute(file.get(), "rows", path), int64_t{1} << 40);
  EXPECT_EQ(h5_read_int_attribute(file.get(), "absent", path), std::nullopt);
  EXPECT_THROW(h5_read_int_attribute(file.get(), "name", path), IoError);
}

}  // namespace
}  // namespace llmbatch
