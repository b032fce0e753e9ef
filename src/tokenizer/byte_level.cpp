#include "tokenizer/byte_level.h"

#include <array>
#include <cstdint>

#include "tokenizer/utf8.h"

namespace llmbatch::tokenizer {
namespace {

struct Table {
  std::array<char32_t, 256> to_char{};
  std::array<std::string, 256> to_utf8;
  // Inverse of to_char over the code points it uses (all below U+0144); -1
  // for the others.
  std::array<int16_t, 0x144> to_byte{};
  Table() {
    to_byte.fill(-1);
    // Printable Latin-1 bytes stand for themselves; the other 68 bytes take
    // the code points from U+0100 on, in byte order.
    char32_t next = 0x100;
    for (int b = 0; b < 256; ++b) {
      const bool printable =
          (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      to_char[b] = printable ? static_cast<char32_t>(b) : next++;
      utf8_append(to_utf8[b], to_char[b]);
      to_byte[to_char[b]] = static_cast<int16_t>(b);
    }
  }
};

const Table& table() {
  static const Table t;
  return t;
}

}  // namespace

char32_t byte_level_char(unsigned char b) { return table().to_char[b]; }

std::optional<unsigned char> byte_level_byte(char32_t c) {
  if (c >= table().to_byte.size() || table().to_byte[c] < 0) return std::nullopt;
  return static_cast<unsigned char>(table().to_byte[c]);
}

std::string byte_level_encode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) out += table().to_utf8[b];
  return out;
}

std::optional<std::string> byte_level_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    const auto b = byte_level_byte(utf8_next(text, pos));
    if (!b) return std::nullopt;
    out += static_cast<char>(*b);
  }
  return out;
}

}  // namespace llmbatch::tokenizer
