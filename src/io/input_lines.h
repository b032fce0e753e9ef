// Lines of a (possibly compressed) input file, one record each, with a cap
// on a line's length: a longer line is reported and skipped without ever
// being held in memory, so memory stays bounded by the cap whatever the file.
//
//   struct InputLine { text, length, too_long };
//   class LineReader { next(), skip_to(offset), offset(), path() };
//
// A record is a line ended by '\n' or the end of the data; a trailing '\r'
// is dropped (CRLF files); the newline that ends the file starts no record.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/compressed_reader.h"

namespace llmbatch {

struct InputLine {
  std::string_view text;  // without its newline; empty when too_long. Valid until the next call
  uint64_t length = 0;    // bytes before the newline (the whole line, also when too_long)
  bool too_long = false;  // length > max_line_bytes: `text` was not kept
};

class LineReader {
 public:
  LineReader(std::unique_ptr<ByteReader> bytes, uint64_t max_line_bytes);

  // The next line, nullopt after the last one. Throws what ByteReader throws.
  std::optional<InputLine> next();
  // Moves forward to the line starting at decompressed byte `offset`
  // (>= offset()); a compressed file decompresses the bytes in between.
  void skip_to(uint64_t offset);
  // Decompressed byte offset of the next line.
  uint64_t offset() const { return bytes_->position() - (end_ - begin_); }
  const std::string& path() const { return bytes_->path(); }

 private:
  bool fill();  // reads more after end_, compacting first; false at the end of the data
  InputLine take(size_t length, size_t newline);  // the line at begin_, then past it
  InputLine discard_rest(uint64_t length_so_far);  // a too-long line: drop bytes up to its newline

  std::unique_ptr<ByteReader> bytes_;
  uint64_t max_line_bytes_;
  std::vector<char> buffer_;
  size_t begin_ = 0;  // first unread byte in buffer_
  size_t end_ = 0;    // end of the valid bytes in buffer_
};

}  // namespace llmbatch
