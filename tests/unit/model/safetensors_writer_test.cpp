#include "model/safetensors_writer.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "core/error.h"
#include "model/safetensors.h"
#include "model_test_util.h"

namespace llmbatch {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(seed + 7 * i);
  return out;
}

TEST(TensorDeclTest, NbytesIsShapeTimesDtype) {
  EXPECT_EQ((TensorDecl{"a", DType::F32, {3, 5}}.nbytes()), 60u);
  EXPECT_EQ((TensorDecl{"a", DType::BF16, {7}}.nbytes()), 14u);
  EXPECT_EQ((TensorDecl{"a", DType::F16, {}}.nbytes()), 2u);  // scalar
  EXPECT_EQ((TensorDecl{"a", DType::F32, {4, 0}}.nbytes()), 0u);
}

TEST(SafetensorsWriterTest, RoundTripsThroughTheReader) {
  const test::TempDir dir;
  const std::vector<TensorDecl> decls = {
      {"z.weight", DType::F32, {3, 5}},  // written first, though it sorts last by name
      {"a.bias", DType::BF16, {7}},
      {"empty", DType::F16, {0, 4}},
      {"scalar", DType::F16, {}},
  };
  const auto z = pattern(60, 1), a = pattern(14, 2), s = pattern(2, 3);
  {
    SafetensorsWriter w(dir.file("m.safetensors"), decls, {{"format", "pt"}, {"seed", "7"}});
    w.write({z.data(), 25});  // a tensor may arrive in pieces
    w.write({z.data() + 25, 35});
    w.write(a);
    w.write(std::span<const uint8_t>());
    w.write(s);
    w.finish();
  }
  const SafetensorsFile f(dir.file("m.safetensors"));
  EXPECT_EQ(f.header().metadata, (std::map<std::string, std::string>{{"format", "pt"}, {"seed", "7"}}));
  const auto& t = f.header().tensors;  // in data order = declaration order
  ASSERT_EQ(t.size(), 4u);
  const std::vector<std::vector<uint8_t>> data = {z, a, {}, s};
  for (size_t i = 0; i < decls.size(); ++i) {
    SCOPED_TRACE(decls[i].name);
    EXPECT_EQ(t[i].name, decls[i].name);
    EXPECT_EQ(t[i].dtype, decls[i].dtype);
    EXPECT_EQ(t[i].shape, decls[i].shape);
    EXPECT_EQ(t[i].nbytes, decls[i].nbytes());
    const auto bytes = f.bytes(t[i], 0, t[i].nbytes);
    EXPECT_EQ(std::vector<uint8_t>(bytes.begin(), bytes.end()), data[i]);
  }
}

TEST(SafetensorsWriterTest, DefaultAndEmptyMetadata) {
  const test::TempDir dir;
  test::write_zero_safetensors(dir.file("d.safetensors"), {{"x", DType::F32, {2}}});
  EXPECT_EQ(SafetensorsFile(dir.file("d.safetensors")).header().metadata,
            (std::map<std::string, std::string>{{"format", "pt"}}));  // what PyTorch exports carry
  {
    SafetensorsWriter w(dir.file("e.safetensors"), {{"x", DType::F32, {1}}}, {});
    w.write(pattern(4, 0));
    w.finish();
  }
  EXPECT_TRUE(SafetensorsFile(dir.file("e.safetensors")).header().metadata.empty());
  EXPECT_EQ(test::read_file(dir.file("e.safetensors")).find("__metadata__"), std::string::npos);
}

TEST(SafetensorsWriterTest, DataStartsEightByteAligned) {
  const test::TempDir dir;
  // Names of every length mod 8 move the header's natural end around.
  for (int len = 1; len <= 8; ++len) {
    const auto path = dir.file("a" + std::to_string(len) + ".safetensors");
    test::write_zero_safetensors(path, {{std::string(len, 'n'), DType::BF16, {3}}});
    const auto bytes = test::read_file(path);
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | static_cast<uint8_t>(bytes[i]);
    EXPECT_EQ(header_len % 8, 0u) << len;
    EXPECT_EQ(bytes.size(), 8 + header_len + 6) << len;
    EXPECT_EQ(SafetensorsFile(path).header().data_start % 8, 0u) << len;
  }
}

TEST(SafetensorsWriterTest, NothingAppearsUnlessFinished) {
  const test::TempDir dir;
  const auto path = dir.file("m.safetensors");
  {
    SafetensorsWriter w(path, {{"x", DType::F32, {4}}});
    w.write(pattern(16, 0));
    EXPECT_FALSE(fs::exists(path));  // still under the temporary name
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(fs::is_empty(dir.str())) << "the temporary file was left behind";
}

TEST(SafetensorsWriterTest, FinishingShortIsABugAndLeavesNothing) {
  const test::TempDir dir;
  const auto path = dir.file("m.safetensors");
  {
    SafetensorsWriter w(path, {{"x", DType::F32, {4}}, {"y", DType::F32, {1}}});
    w.write(pattern(16, 0));
    EXPECT_THROW(w.finish(), InternalError);
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(fs::is_empty(dir.str()));
}

TEST(SafetensorsWriterTest, WritingMoreThanDeclaredIsABug) {
  const test::TempDir dir;
  SafetensorsWriter w(dir.file("m.safetensors"), {{"x", DType::F16, {2}}});
  w.write(pattern(3, 0));
  EXPECT_THROW(w.write(pattern(2, 0)), InternalError);
  w.write(pattern(1, 0));  // the refused write took nothing
  w.finish();
  EXPECT_EQ(SafetensorsFile(dir.file("m.safetensors")).header().tensors[0].nbytes, 4u);
}

TEST(SafetensorsWriterTest, UseAfterFinishIsABug) {
  const test::TempDir dir;
  SafetensorsWriter w(dir.file("m.safetensors"), {{"x", DType::F16, {0}}});
  w.finish();
  EXPECT_THROW(w.write(std::span<const uint8_t>()), InternalError);
  EXPECT_THROW(w.finish(), InternalError);
  EXPECT_NO_THROW(SafetensorsFile(dir.file("m.safetensors")));
}

TEST(SafetensorsWriterTest, UncreatableFileIsAnIoError) {
  const test::TempDir dir;
  const auto e = test::thrown<IoError>(
      [&] { SafetensorsWriter w(dir.file("no/such/dir/m.safetensors"), {{"x", DType::F32, {1}}}); });
  ASSERT_TRUE(e);
  EXPECT_CONTAINS(e->context().file, "no/such/dir/m.safetensors");
}

}  // namespace
}  // namespace llmbatch
