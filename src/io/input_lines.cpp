#include "io/input_lines.h"

#include <cstring>

#include "core/error.h"

namespace llmbatch {
namespace {
constexpr size_t kChunk = 1 << 20;
}  // namespace

LineReader::LineReader(std::unique_ptr<ByteReader> bytes, uint64_t max_line_bytes)
    : bytes_(std::move(bytes)), max_line_bytes_(max_line_bytes), buffer_(kChunk) {}

bool LineReader::fill() {
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  // A line longer than the buffer: grow, up to the cap plus one chunk.
  if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
  const size_t n = bytes_->read(buffer_.data() + end_, buffer_.size() - end_);
  end_ += n;
  return n > 0;
}

std::optional<InputLine> LineReader::next() {
  size_t scanned = 0;  // bytes after begin_ already searched for a newline
  for (;;) {
    const size_t available = end_ - begin_;
    const char* start = buffer_.data() + begin_;
    const auto* newline = static_cast<const char*>(std::memchr(start + scanned, '\n', available - scanned));
    if (newline != nullptr) return take(static_cast<size_t>(newline - start), 1);
    scanned = available;
    if (available > max_line_bytes_) return discard_rest(available);
    if (!fill()) {
      if (available == 0) return std::nullopt;
      return take(available, 0);  // the last line has no newline
    }
  }
}

InputLine LineReader::take(size_t length, size_t newline) {
  const char* start = buffer_.data() + begin_;
  begin_ += length + newline;
  if (length > max_line_bytes_) return InputLine{.length = length, .too_long = true};
  std::string_view text(start, length);
  if (text.ends_with('\r')) text.remove_suffix(1);
  return InputLine{.text = text, .length = length};
}

InputLine LineReader::discard_rest(uint64_t length_so_far) {
  begin_ = end_ = 0;
  for (;;) {
    const size_t n = bytes_->read(buffer_.data(), kChunk);
    if (n == 0) return InputLine{.length = length_so_far, .too_long = true};
    const auto* newline = static_cast<const char*>(std::memchr(buffer_.data(), '\n', n));
    if (newline != nullptr) {
      const size_t before = static_cast<size_t>(newline - buffer_.data());
      begin_ = before + 1;
      end_ = n;
      return InputLine{.length = length_so_far + before, .too_long = true};
    }
    length_so_far += n;
  }
}

void LineReader::skip_to(uint64_t offset) {
  const uint64_t here = this->offset();
  if (offset < here) {
    throw InternalError("LineReader::skip_to(" + std::to_string(offset) + ") is behind offset " +
                        std::to_string(here));
  }
  const uint64_t buffered = end_ - begin_;
  if (offset - here <= buffered) {
    begin_ += offset - here;
    return;
  }
  bytes_->skip(offset - here - buffered);
  begin_ = end_ = 0;
}

}  // namespace llmbatch
