#include "model/safetensors.h"

#include <algorithm>
#include <cstring>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_error.h"

namespace llmbatch {
namespace {

// Dtypes the format defines that llmbatch does not load.
constexpr const char* kKnownUnsupportedDtypes[] = {"F64", "I64", "I32", "I16", "I8", "U64", "U32",
                                                   "U16", "U8", "BOOL", "F8_E4M3", "F8_E5M2"};

DType parse_tensor_dtype(const nlohmann::json& value, const std::string& tensor, const std::string& file) {
  if (!value.is_string()) {
    throw ModelFormatError("'dtype' must be a string", {.file = file, .tensor = tensor});
  }
  const auto text = value.get<std::string>();
  DType dtype;
  if ((text == "F32" || text == "F16" || text == "BF16") && dtype_parse(text, &dtype)) return dtype;
  for (const char* known : kKnownUnsupportedDtypes) {
    if (text == known) {
      throw UnsupportedError("tensor dtype '" + text + "'", {.file = file, .tensor = tensor},
                             "llmbatch reads F32, F16 and BF16 weights");
    }
  }
  throw ModelFormatError("unknown dtype '" + text + "'", {.file = file, .tensor = tensor});
}

// Checked product of the shape and the element size; throws on overflow.
uint64_t checked_nbytes(const std::vector<int64_t>& shape, DType dtype, const std::string& tensor,
                        const std::string& file) {
  uint64_t n = dtype_size(dtype);
  for (int64_t d : shape) {
    if (d != 0 && n > UINT64_MAX / static_cast<uint64_t>(d)) {
      throw ModelFormatError("shape overflows a 64-bit byte count", {.file = file, .tensor = tensor});
    }
    n *= static_cast<uint64_t>(d);
  }
  return n;
}

TensorInfo parse_tensor_entry(const std::string& name, const nlohmann::json& entry, uint64_t data_start,
                              uint64_t data_size, const std::string& file) {
  const auto fail = [&](const std::string& what) {
    throw ModelFormatError(what, {.file = file, .tensor = name}, "the file is damaged or not a safetensors file");
  };
  if (!entry.is_object()) fail("header entry is not an object");
  TensorInfo t;
  t.name = name;
  const auto dtype = entry.find("dtype");
  const auto shape = entry.find("shape");
  const auto offsets = entry.find("data_offsets");
  if (dtype == entry.end() || shape == entry.end() || offsets == entry.end()) {
    fail("header entry needs 'dtype', 'shape' and 'data_offsets'");
  }
  t.dtype = parse_tensor_dtype(*dtype, name, file);
  if (!shape->is_array()) fail("'shape' is not a list");
  for (const auto& d : *shape) {
    if (!d.is_number_unsigned()) fail("'shape' must hold non-negative integers, got " + shape->dump());
    const uint64_t v = d.get<uint64_t>();
    if (v > static_cast<uint64_t>(INT64_MAX)) fail("shape dimension too large");
    t.shape.push_back(static_cast<int64_t>(v));
  }
  if (!offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
      !(*offsets)[1].is_number_unsigned()) {
    fail("'data_offsets' must be two non-negative integers, got " + offsets->dump());
  }
  const uint64_t begin = (*offsets)[0].get<uint64_t>();
  const uint64_t end = (*offsets)[1].get<uint64_t>();
  if (begin > end) fail("'data_offsets' begin " + std::to_string(begin) + " > end " + std::to_string(end));
  if (end > data_size) {
    throw ModelFormatError("tensor data [" + std::to_string(begin) + ", " + std::to_string(end) +
                               ") runs past the end of the file (" + std::to_string(data_size) +
                               " data bytes)",
                           {.file = file, .tensor = name, .offset = data_start + begin},
                           "the file is probably truncated; download it again");
  }
  t.offset = data_start + begin;
  t.nbytes = end - begin;
  const uint64_t expected = checked_nbytes(t.shape, t.dtype, name, file);
  if (expected != t.nbytes) {
    throw ModelFormatError("data size " + std::to_string(t.nbytes) + " bytes does not match shape × dtype = " +
                               std::to_string(expected) + " bytes",
                           {.file = file, .tensor = name, .offset = t.offset});
  }
  return t;
}

std::map<std::string, std::string> parse_metadata(const nlohmann::json& value, const std::string& file) {
  if (!value.is_object()) throw ModelFormatError("'__metadata__' is not an object", {.file = file});
  std::map<std::string, std::string> out;
  for (const auto& [key, v] : value.items()) {
    if (!v.is_string()) {
      throw ModelFormatError("'__metadata__' value for '" + key + "' is not a string", {.file = file});
    }
    out[key] = v.get<std::string>();
  }
  return out;
}

// Tensors must tile the data area exactly: no overlap, no gap, no slack.
void check_layout(const std::vector<TensorInfo>& tensors, uint64_t data_start, uint64_t file_size,
                  const std::string& file) {
  uint64_t cursor = data_start;
  for (const auto& t : tensors) {
    if (t.offset < cursor) {
      throw ModelFormatError("tensor data overlaps the previous tensor", {.file = file, .tensor = t.name, .offset = t.offset});
    }
    if (t.offset > cursor) {
      throw ModelFormatError("gap of " + std::to_string(t.offset - cursor) + " unused bytes before the tensor",
                             {.file = file, .tensor = t.name, .offset = cursor});
    }
    cursor = t.offset + t.nbytes;
  }
  if (cursor != file_size) {
    throw ModelFormatError(std::to_string(file_size - cursor) + " trailing bytes after the last tensor",
                           {.file = file, .offset = cursor});
  }
}

}  // namespace

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

SafetensorsHeader safetensors_parse_header(const uint8_t* data, size_t size, const std::string& file) {
  if (size < 8) {
    throw ModelFormatError("file is " + std::to_string(size) + " bytes, shorter than the 8-byte header length",
                           {.file = file}, "the file is truncated or not a safetensors file");
  }
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | data[i];  // little-endian
  if (header_len > kSafetensorsMaxHeaderBytes) {
    throw ModelFormatError("header length " + std::to_string(header_len) + " exceeds the 100 MB limit",
                           {.file = file, .offset = 0}, "the file is damaged or not a safetensors file");
  }
  if (header_len > size - 8) {
    throw ModelFormatError("header length " + std::to_string(header_len) + " is longer than the file (" +
                               std::to_string(size) + " bytes)",
                           {.file = file, .offset = 0}, "the file is truncated or not a safetensors file");
  }
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(data + 8, data + 8 + header_len);
  } catch (const nlohmann::json::exception& e) {
    throw ModelFormatError(std::string("header is not valid JSON: ") + e.what(),
                           {.file = file, .offset = 8 + json_error_byte(e).value_or(0)});
  }
  if (!json.is_object()) throw ModelFormatError("header is not a JSON object", {.file = file, .offset = 8});

  SafetensorsHeader header;
  header.data_start = 8 + header_len;
  const uint64_t data_size = size - header.data_start;
  for (const auto& [name, entry] : json.items()) {
    if (name == "__metadata__") {
      header.metadata = parse_metadata(entry, file);
    } else {
      header.tensors.push_back(parse_tensor_entry(name, entry, header.data_start, data_size, file));
    }
  }
  std::sort(header.tensors.begin(), header.tensors.end(),
            [](const TensorInfo& a, const TensorInfo& b) { return a.offset != b.offset ? a.offset < b.offset : a.nbytes < b.nbytes; });
  check_layout(header.tensors, header.data_start, size, file);
  return header;
}

SafetensorsFile::SafetensorsFile(const std::string& path)
    : file_(path), header_(safetensors_parse_header(file_.data(), file_.size(), path)) {}

std::span<const uint8_t> SafetensorsFile::bytes(const TensorInfo& tensor, uint64_t begin, uint64_t count) const {
  if (begin > tensor.nbytes || count > tensor.nbytes - begin) {
    throw InternalError("byte range [" + std::to_string(begin) + ", +" + std::to_string(count) +
                            ") outside tensor of " + std::to_string(tensor.nbytes) + " bytes",
                        {.file = path(), .tensor = tensor.name});
  }
  return {file_.data() + tensor.offset + begin, count};
}

}  // namespace llmbatch
