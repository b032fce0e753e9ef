#include "model/safetensors_writer.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace llmbatch {

uint64_t TensorDecl::nbytes() const {
  uint64_t n = dtype_size(dtype);
  for (int64_t d : shape) n *= static_cast<uint64_t>(d);
  return n;
}

SafetensorsWriter::SafetensorsWriter(std::string path, std::vector<TensorDecl> tensors,
                                     const std::map<std::string, std::string>& metadata)
    : path_(std::move(path)), tmp_path_(path_ + ".tmp") {
  // nlohmann orders object keys by name; offsets follow declaration order.
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  for (const auto& t : tensors) {
    const uint64_t begin = expected_data_bytes_;
    expected_data_bytes_ += t.nbytes();
    header[t.name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {begin, expected_data_bytes_}}};
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps tensor data 8-byte aligned

  out_ = std::fopen(tmp_path_.c_str(), "wb");
  if (!out_) throw IoError("cannot create: " + errno_text(errno), {.file = tmp_path_});
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(uint64_t{text.size()} >> (8 * i));
  if (std::fwrite(len, 1, 8, out_) != 8 || std::fwrite(text.data(), 1, text.size(), out_) != text.size()) {
    const int err = errno;
    std::fclose(out_);  // the destructor does not run for a throwing constructor
    out_ = nullptr;
    std::remove(tmp_path_.c_str());
    throw IoError("write failed: " + errno_text(err), {.file = tmp_path_});
  }
}

SafetensorsWriter::~SafetensorsWriter() {
  if (out_) {  // not finished: leave nothing behind
    std::fclose(out_);
    std::remove(tmp_path_.c_str());
  }
}

void SafetensorsWriter::write(std::span<const uint8_t> bytes) {
  LLMBATCH_CHECK(out_ != nullptr, "write after finish");
  LLMBATCH_CHECK(written_data_bytes_ + bytes.size() <= expected_data_bytes_, "more bytes than declared");
  if (bytes.empty()) return;  // an empty span's data() may be null, which fwrite must not get
  if (std::fwrite(bytes.data(), 1, bytes.size(), out_) != bytes.size()) {
    throw IoError("write failed: " + errno_text(errno), {.file = tmp_path_}, "is the disk full?");
  }
  written_data_bytes_ += bytes.size();
}

void SafetensorsWriter::finish() {
  LLMBATCH_CHECK(out_ != nullptr, "finish called twice");
  LLMBATCH_CHECK(written_data_bytes_ == expected_data_bytes_, "fewer bytes written than declared");
  const bool ok = std::fflush(out_) == 0 && ::fsync(fileno(out_)) == 0;
  const int err = errno;
  std::fclose(out_);
  out_ = nullptr;
  if (!ok) {
    std::remove(tmp_path_.c_str());
    throw IoError("flush failed: " + errno_text(err), {.file = tmp_path_}, "is the disk full?");
  }
  if (std::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    throw IoError("rename failed: " + errno_text(errno), {.file = path_});
  }
}

}  // namespace llmbatch
