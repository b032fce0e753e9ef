// The safetensors format: an 8-byte little-endian header length N, N bytes
// of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__":
// {...}}, then the tensor bytes (offsets are relative to the byte after the
// header). Headers come from files we did not write, so every number is
// checked before it is used: sizes, ranges, overflow, overlaps, gaps.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/mapped_file.h"

namespace llmbatch {

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t offset = 0;  // absolute byte offset of the data in the file
  uint64_t nbytes = 0;

  int64_t numel() const;
};

struct SafetensorsHeader {
  std::vector<TensorInfo> tensors;  // in data order
  std::map<std::string, std::string> metadata;
  uint64_t data_start = 0;  // 8 + header length
};

// The largest header accepted (the reference implementation's limit too).
constexpr uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;

// Parses and validates the header of a whole safetensors file held in
// [data, data + size). Throws ModelFormatError / UnsupportedError naming
// `file`, the tensor and the byte offset of the problem.
SafetensorsHeader safetensors_parse_header(const uint8_t* data, size_t size, const std::string& file);

// One mapped safetensors file.
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);

  const SafetensorsHeader& header() const { return header_; }
  const std::string& path() const { return file_.path(); }
  // The bytes [begin, begin + count) of a tensor's data; checked against it.
  std::span<const uint8_t> bytes(const TensorInfo& tensor, uint64_t begin, uint64_t count) const;

 private:
  MappedFile file_;
  SafetensorsHeader header_;
};

}  // namespace llmbatch
