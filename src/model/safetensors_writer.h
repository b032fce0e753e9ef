// Writes a safetensors file tensor by tensor, without holding the model in
// memory: the header is written first from the declared shapes, then each
// tensor's bytes are streamed in order. Used for random-weight models.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace llmbatch {

struct TensorDecl {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;

  uint64_t nbytes() const;
};

class SafetensorsWriter {
 public:
  // Declares all tensors up front (data is written in this order). The file
  // appears under `path` only after finish(): it is written to path + ".tmp"
  // and renamed, so a crash never leaves a half file under the real name.
  SafetensorsWriter(std::string path, std::vector<TensorDecl> tensors,
                    const std::map<std::string, std::string>& metadata = {{"format", "pt"}});
  ~SafetensorsWriter();
  SafetensorsWriter(const SafetensorsWriter&) = delete;
  SafetensorsWriter& operator=(const SafetensorsWriter&) = delete;

  // Appends bytes of the current tensor; tensors are filled in declaration
  // order and a tensor may be written in several pieces.
  void write(std::span<const uint8_t> bytes);
  // Checks every declared byte was written, flushes, fsyncs, renames.
  void finish();

 private:
  std::string path_;
  std::string tmp_path_;
  std::FILE* out_ = nullptr;
  uint64_t expected_data_bytes_ = 0;
  uint64_t written_data_bytes_ = 0;
};

}  // namespace llmbatch
