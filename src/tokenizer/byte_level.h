// GPT-2's byte-to-character table: byte-level BPE vocabularies spell each
// byte as one printable character ('Ġ' is the space byte 0x20, 'Ċ' is '\n').
// llmbatch runs byte-level BPE on raw bytes instead (the vocabulary is
// translated once at load time), so the table is needed at load time, for
// the ByteLevel decoder, and to show pre-tokenizer output in tests.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace llmbatch::tokenizer {

// The character that spells byte `b`.
char32_t byte_level_char(unsigned char b);

// The byte a character spells, if it is one of the 256.
std::optional<unsigned char> byte_level_byte(char32_t c);

// Every byte of `bytes` replaced by its character (UTF-8 out).
std::string byte_level_encode(std::string_view bytes);

// The bytes spelled by valid UTF-8 `text`, or nullopt if some character is
// not one of the 256.
std::optional<std::string> byte_level_decode(std::string_view text);

}  // namespace llmbatch::tokenizer
