#include "model/safetensors.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "model_test_util.h"

namespace llmbatch {
namespace {

using test::thrown;

// A safetensors file assembled by hand, independent of SafetensorsWriter:
// the 8-byte little-endian length, the header text as given, the data.
std::string file_bytes(const std::string& header, const std::string& data, uint64_t header_len) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((header_len >> (8 * i)) & 0xff));
  return out + header + data;
}
std::string file_bytes(const std::string& header, const std::string& data) {
  return file_bytes(header, data, header.size());
}

// A data area of n bytes whose byte i is i (mod 256).
std::string counting_bytes(size_t n) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>(i);
  return out;
}

SafetensorsHeader parse(const std::string& bytes) {
  return safetensors_parse_header(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "m.safetensors");
}

// The error for `bytes` is E, mentions `part`, and points at `tensor` and
// `offset` (each checked when given; "" is "no tensor").
template <typename E = ModelFormatError>
void expect_error(const std::string& bytes, const std::string& part,
                  const std::optional<std::string>& tensor = std::nullopt,
                  std::optional<uint64_t> offset = std::nullopt) {
  const auto e = thrown<E>([&] { parse(bytes); });
  ASSERT_TRUE(e);
  EXPECT_CONTAINS(e->what(), part);
  EXPECT_EQ(e->context().file, "m.safetensors");
  if (tensor) {
    EXPECT_EQ(e->context().tensor, *tensor) << e->what();
  }
  if (offset) {
    EXPECT_EQ(e->context().offset, offset) << e->what();
  }
}

// One F32 tensor "t" of `shape` at data_offsets [begin, end].
std::string one_tensor(const std::string& shape, uint64_t begin, uint64_t end, const std::string& dtype = "F32") {
  return R"({"t":{"dtype":")" + dtype + R"(","shape":)" + shape + R"(,"data_offsets":[)" + std::to_string(begin) +
         "," + std::to_string(end) + "]}}";
}

TEST(SafetensorsTest, ParsesTensorsInDataOrder) {
  // Names sort differently from the data: the header lists tensors by data
  // offset. A zero-size tensor sits before the scalar at the same offset.
  const std::string header =
      R"({"__metadata__":{"format":"pt","note":"x"},)"
      R"("a":{"dtype":"F32","shape":[2,3],"data_offsets":[4,28]},)"
      R"("b":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},)"
      R"("s":{"dtype":"F32","shape":[],"data_offsets":[28,32]},)"
      R"("z":{"dtype":"F16","shape":[0,5],"data_offsets":[28,28]}})";
  const auto h = parse(file_bytes(header, counting_bytes(32)));
  const uint64_t start = 8 + header.size();
  EXPECT_EQ(h.data_start, start);
  EXPECT_EQ(h.metadata, (std::map<std::string, std::string>{{"format", "pt"}, {"note", "x"}}));
  ASSERT_EQ(h.tensors.size(), 4u);

  EXPECT_EQ(h.tensors[0].name, "b");
  EXPECT_EQ(h.tensors[0].dtype, DType::BF16);
  EXPECT_EQ(h.tensors[0].shape, (std::vector<int64_t>{2}));
  EXPECT_EQ(h.tensors[0].offset, start);
  EXPECT_EQ(h.tensors[0].nbytes, 4u);
  EXPECT_EQ(h.tensors[0].numel(), 2);

  EXPECT_EQ(h.tensors[1].name, "a");
  EXPECT_EQ(h.tensors[1].dtype, DType::F32);
  EXPECT_EQ(h.tensors[1].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(h.tensors[1].offset, start + 4);
  EXPECT_EQ(h.tensors[1].nbytes, 24u);
  EXPECT_EQ(h.tensors[1].numel(), 6);

  EXPECT_EQ(h.tensors[2].name, "z");
  EXPECT_EQ(h.tensors[2].dtype, DType::F16);
  EXPECT_EQ(h.tensors[2].nbytes, 0u);
  EXPECT_EQ(h.tensors[2].numel(), 0);

  EXPECT_EQ(h.tensors[3].name, "s");
  EXPECT_TRUE(h.tensors[3].shape.empty());
  EXPECT_EQ(h.tensors[3].offset, start + 28);
  EXPECT_EQ(h.tensors[3].nbytes, 4u);
  EXPECT_EQ(h.tensors[3].numel(), 1);  // a scalar holds one element
}

TEST(SafetensorsTest, AcceptsPaddingEmptyHeadersAndNoMetadata) {
  // Writers pad the header with spaces to align the data.
  const auto padded = parse(file_bytes(one_tensor("[2]", 0, 8) + "     ", counting_bytes(8)));
  ASSERT_EQ(padded.tensors.size(), 1u);
  EXPECT_TRUE(padded.metadata.empty());
  const auto empty = parse(file_bytes("{}", ""));
  EXPECT_TRUE(empty.tensors.empty());
  EXPECT_EQ(empty.data_start, 10u);
  const auto only_metadata = parse(file_bytes(R"({"__metadata__":{}})", ""));
  EXPECT_TRUE(only_metadata.tensors.empty());
}

TEST(SafetensorsTest, TooShortForTheLength) {
  expect_error("", "0 bytes");
  expect_error(std::string(7, '\0'), "7 bytes");
}

TEST(SafetensorsTest, HeaderLongerThanTheFile) {
  expect_error(file_bytes("{}", "", 100), "header length 100 is longer than the file", "", 0);
  // 8 + N must fit: N = size - 7 is one byte too many.
  expect_error(file_bytes("{}", "", 3), "header length 3");
}

TEST(SafetensorsTest, HeaderOverTheSizeLimit) {
  expect_error(file_bytes("{}", "", kSafetensorsMaxHeaderBytes + 1), "100 MB", "", 0);
  expect_error(file_bytes("{}", "", UINT64_MAX), "100 MB", "", 0);  // no wrap-around in 8 + N
  // At the limit itself the length is allowed; this file is just too short.
  expect_error(file_bytes("{}", "", kSafetensorsMaxHeaderBytes), "longer than the file");
}

TEST(SafetensorsTest, HeaderNotJsonOrNotAnObject) {
  const auto e = thrown<ModelFormatError>([&] { parse(file_bytes(R"({"t": {"dtype": )", "")); });
  ASSERT_TRUE(e);
  EXPECT_CONTAINS(e->what(), "not valid JSON");
  ASSERT_TRUE(e->context().offset);
  EXPECT_GE(*e->context().offset, 8u);  // inside the header, not the length field
  expect_error(file_bytes(R"({"t": {"data_offsets": [0, 1e999]}})", ""), "number overflow", "", 8);
  expect_error(file_bytes("[1,2]", ""), "not a JSON object", "", 8);
  expect_error(file_bytes("\"t\"", ""), "not a JSON object");
}

TEST(SafetensorsTest, EntryNotAnObject) {
  expect_error(file_bytes(R"({"t": 5})", ""), "not an object", "t");
  expect_error(file_bytes(R"({"t": [0, 4]})", "1234"), "not an object", "t");
}

TEST(SafetensorsTest, EntryMissingAField) {
  for (const char* header : {R"({"t":{"shape":[1],"data_offsets":[0,4]}})",
                             R"({"t":{"dtype":"F32","data_offsets":[0,4]}})",
                             R"({"t":{"dtype":"F32","shape":[1]}})"}) {
    SCOPED_TRACE(header);
    expect_error(file_bytes(header, "1234"), "needs 'dtype', 'shape' and 'data_offsets'", "t");
  }
}

TEST(SafetensorsTest, BadShapes) {
  expect_error(file_bytes(one_tensor("[-1]", 0, 4), "1234"), "non-negative integers", "t");
  expect_error(file_bytes(one_tensor("[1.0]", 0, 4), "1234"), "non-negative integers", "t");
  expect_error(file_bytes(one_tensor("[\"1\"]", 0, 4), "1234"), "non-negative integers", "t");
  expect_error(file_bytes(one_tensor("4", 0, 4), "1234"), "'shape' is not a list", "t");
  expect_error(file_bytes(one_tensor("[9223372036854775808]", 0, 0), ""), "too large", "t");
}

TEST(SafetensorsTest, BadDataOffsets) {
  const auto entry = [](const std::string& offsets) {
    return R"({"t":{"dtype":"F32","shape":[1],"data_offsets":)" + offsets + "}}";
  };
  for (const char* offsets : {"[0]", "[0,4,8]", "[-4,0]", "[0,4.0]", "\"0-4\""}) {
    SCOPED_TRACE(offsets);
    expect_error(file_bytes(entry(offsets), "1234"), "'data_offsets' must be two non-negative integers", "t");
  }
}

TEST(SafetensorsTest, BeginAfterEnd) {
  expect_error(file_bytes(one_tensor("[1]", 8, 4), std::string(8, 'x')), "begin 8 > end 4", "t");
}

TEST(SafetensorsTest, DataPastTheEndOfTheFile) {
  const auto header = one_tensor("[2,4]", 0, 32);
  // A file cut short: 24 of 32 data bytes.
  expect_error(file_bytes(header, counting_bytes(24)), "runs past the end of the file", "t", 8 + header.size());
}

TEST(SafetensorsTest, SizeMustBeShapeTimesDtype) {
  const auto header = one_tensor("[2,3]", 0, 20);
  expect_error(file_bytes(header, counting_bytes(20)), "does not match", "t", 8 + header.size());
  // The same 20 bytes are right for F16 [2,5] and wrong for F32 [2,5].
  EXPECT_NO_THROW(parse(file_bytes(one_tensor("[2,5]", 0, 20, "F16"), counting_bytes(20))));
  expect_error(file_bytes(one_tensor("[2,5]", 0, 20), counting_bytes(20)), "40 bytes", "t");
}

TEST(SafetensorsTest, OverlappingTensors) {
  const std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                             R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
  expect_error(file_bytes(header, counting_bytes(12)), "overlaps", "b", 8 + header.size() + 4);
  // Two tensors on the same bytes.
  const std::string same = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                           R"("b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  expect_error(file_bytes(same, counting_bytes(8)), "overlaps");
  // A zero-size tensor inside another one's bytes is an overlap too.
  const std::string inside = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                             R"("e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}})";
  expect_error(file_bytes(inside, counting_bytes(8)), "overlaps", "e");
}

TEST(SafetensorsTest, GapBetweenTensors) {
  const std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                             R"("b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})";
  expect_error(file_bytes(header, counting_bytes(20)), "gap of 4", "b", 8 + header.size() + 8);
  // Data not starting right after the header is a gap before the first tensor.
  expect_error(file_bytes(one_tensor("[1]", 4, 8), counting_bytes(8)), "gap of 4", "t", 8 + one_tensor("[1]", 4, 8).size());
}

TEST(SafetensorsTest, TrailingBytes) {
  const auto header = one_tensor("[2]", 0, 8);
  expect_error(file_bytes(header, counting_bytes(10)), "2 trailing bytes", "", 8 + header.size() + 8);
  expect_error(file_bytes("{}", "xyz"), "3 trailing bytes", "", 10);
}

TEST(SafetensorsTest, UnknownDtypeIsAFormatError) {
  expect_error(file_bytes(one_tensor("[4]", 0, 4, "Q4"), "1234"), "unknown dtype 'Q4'", "t");
  expect_error(file_bytes(one_tensor("[4]", 0, 16, "f32"), counting_bytes(16)), "unknown dtype 'f32'", "t");
  expect_error(file_bytes(R"({"t":{"dtype":4,"shape":[1],"data_offsets":[0,4]}})", "1234"), "'dtype'", "t");
}

TEST(SafetensorsTest, KnownButUnsupportedDtypes) {
  expect_error<UnsupportedError>(file_bytes(one_tensor("[4]", 0, 4, "I8"), "1234"), "'I8'", "t");
  expect_error<UnsupportedError>(file_bytes(one_tensor("[1]", 0, 8, "F64"), "12345678"), "'F64'", "t");
  expect_error<UnsupportedError>(file_bytes(one_tensor("[1]", 0, 8, "I64"), "12345678"), "'I64'", "t");
}

TEST(SafetensorsTest, ShapeOverflow) {
  expect_error(file_bytes(one_tensor("[4294967296,4294967296]", 0, 0), ""), "overflow", "t");
  // 2^62 * 4 elements * 4 bytes wraps to exactly 0 in 64 bits: it must not
  // pass as an empty tensor.
  expect_error(file_bytes(one_tensor("[4611686018427387904,4]", 0, 0), ""), "overflow", "t");
  // A zero dimension first makes the product 0, whatever follows.
  EXPECT_NO_THROW(parse(file_bytes(one_tensor("[0,9223372036854775807]", 0, 0), "")));
}

TEST(SafetensorsTest, MetadataMustMapStringsToStrings) {
  const auto e = thrown<ModelFormatError>([&] { parse(file_bytes(R"({"__metadata__":{"n":1}})", "")); });
  ASSERT_TRUE(e);
  EXPECT_CONTAINS(e->what(), "'n'");
  expect_error(file_bytes(R"({"__metadata__":["format"]})", ""), "'__metadata__' is not an object");
}

class SafetensorsFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    header_ = R"({"__metadata__":{"format":"pt"},)"
              R"("a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
              R"("b":{"dtype":"F16","shape":[3],"data_offsets":[16,22]}})";
    test::write_file(path(), file_bytes(header_, counting_bytes(22)));
  }
  std::string path() const { return dir_.file("m.safetensors"); }

  test::TempDir dir_;
  std::string header_;
};

TEST_F(SafetensorsFileTest, MapsAndParses) {
  const SafetensorsFile f(path());
  EXPECT_EQ(f.path(), path());
  EXPECT_EQ(f.header().metadata.at("format"), "pt");
  ASSERT_EQ(f.header().tensors.size(), 2u);
  EXPECT_EQ(f.header().tensors[1].name, "b");
  EXPECT_EQ(f.header().data_start, 8 + header_.size());
}

TEST_F(SafetensorsFileTest, BytesReturnsTheRequestedRange) {
  const SafetensorsFile f(path());
  const auto& b = f.header().tensors[1];
  const auto all = f.bytes(b, 0, b.nbytes);
  ASSERT_EQ(all.size(), 6u);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], 16 + i);  // data bytes 16..21
  const auto part = f.bytes(b, 2, 3);
  ASSERT_EQ(part.size(), 3u);
  EXPECT_EQ(part.data(), all.data() + 2);
  EXPECT_TRUE(f.bytes(b, 6, 0).empty());  // the empty range at the end
}

TEST_F(SafetensorsFileTest, BytesOutsideTheTensorIsABug) {
  const SafetensorsFile f(path());
  const auto& a = f.header().tensors[0];
  EXPECT_THROW(f.bytes(a, 0, 17), InternalError);
  EXPECT_THROW(f.bytes(a, 17, 0), InternalError);
  EXPECT_THROW(f.bytes(a, 8, 9), InternalError);
  EXPECT_THROW(f.bytes(a, 1, UINT64_MAX), InternalError);  // no wrap-around in begin + count
  const auto e = thrown<InternalError>([&] { f.bytes(a, 16, 1); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->context().tensor, "a");
}

TEST_F(SafetensorsFileTest, OpenErrorsNameTheFile) {
  EXPECT_THROW(SafetensorsFile(dir_.file("absent.safetensors")), IoError);
  test::write_file(path(), file_bytes(header_, counting_bytes(21)));  // truncated
  const auto e = thrown<ModelFormatError>([&] { SafetensorsFile f(path()); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->context().file, path());
  EXPECT_EQ(e->context().tensor, "b");
}

}  // namespace
}  // namespace llmbatch
