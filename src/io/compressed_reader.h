// Bytes of an input file, decompressed on the fly: plain files, gzip (.gz)
// and zstd (.zst), chosen by the file name's extension.
//
//   enum class Compression { kNone, kGzip, kZstd };
//   Compression compression_of(std::string_view path);
//   std::unique_ptr<ByteReader> open_byte_reader(const std::string& path);
//
// Offsets are always in decompressed bytes. A plain file skips with lseek;
// a compressed stream cannot seek, so skip() decompresses and discards: its
// cost is the distance skipped (docs/inputs.md, "Compressed files").
//
// Errors: an unreadable file is an IoError, a corrupt or truncated
// compressed stream an InputError; both name the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace llmbatch {

enum class Compression { kNone, kGzip, kZstd };

Compression compression_of(std::string_view path);  // ".gz" -> kGzip, ".zst" -> kZstd

class ByteReader {
 public:
  virtual ~ByteReader() = default;
  // Up to `size` bytes into `dst`; 0 only at the end of the data.
  virtual size_t read(char* dst, size_t size) = 0;
  // Moves `count` bytes forward (fewer when the data ends first).
  virtual void skip(uint64_t count) = 0;
  // Decompressed bytes consumed so far (read or skipped).
  uint64_t position() const { return position_; }
  const std::string& path() const { return path_; }

 protected:
  explicit ByteReader(std::string path) : path_(std::move(path)) {}
  std::string path_;
  uint64_t position_ = 0;
};

std::unique_ptr<ByteReader> open_byte_reader(const std::string& path);

}  // namespace llmbatch
