// All weight tensors of a model directory: one model.safetensors, or the
// shards listed by model.safetensors.index.json. Tensors stay in the mmap;
// a caller asks for the bytes it needs (a whole tensor, a block of rows, or
// a flat element range), so a ZeRO-3 rank that holds 1/G of a layer only
// ever touches 1/G of its pages. Returned spans are not aligned beyond what
// the file gives (the format promises nothing): copy or convert from them.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/safetensors.h"

namespace llmbatch {

class TensorStore {
 public:
  // Opens `dir`/model.safetensors.index.json if present, else
  // `dir`/model.safetensors. Throws ModelFormatError / IoError naming the
  // file when neither exists, a shard is missing, or the index disagrees
  // with the shards.
  static TensorStore open(const std::string& dir);
  // Opens one .safetensors file.
  static TensorStore open_file(const std::string& path);

  // nullptr when absent.
  const TensorInfo* find(std::string_view name) const;
  // Throws ModelFormatError when absent.
  const TensorInfo& get(std::string_view name) const;
  // Every tensor, ordered by name.
  std::vector<const TensorInfo*> tensors() const;
  size_t num_files() const { return files_.size(); }
  uint64_t total_bytes() const;

  std::span<const uint8_t> bytes(std::string_view name) const;
  // Rows [row_begin, row_end) of the first dimension.
  std::span<const uint8_t> rows(std::string_view name, int64_t row_begin, int64_t row_end) const;
  // Elements [begin, begin + count) of the tensor flattened in row-major order.
  std::span<const uint8_t> elements(std::string_view name, int64_t begin, int64_t count) const;

 private:
  struct Entry {
    const TensorInfo* info;
    const SafetensorsFile* file;
  };
  void add_file(std::unique_ptr<SafetensorsFile> file);

  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::unordered_map<std::string, Entry> by_name_;
};

}  // namespace llmbatch
