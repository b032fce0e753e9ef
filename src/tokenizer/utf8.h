// UTF-8 primitives for the tokenizer. Text enters the tokenizer as bytes; the
// rule for bytes that are not UTF-8 is that of Python's
// bytes.decode("utf-8", errors="replace") (and Rust's from_utf8_lossy): each
// maximal ill-formed subsequence becomes one U+FFFD (Unicode 15, section 3.9,
// "U+FFFD substitution of maximal subparts").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace llmbatch::tokenizer {

inline constexpr char32_t kReplacementChar = 0xFFFD;

// Decodes the code point at `pos` of valid UTF-8 and advances `pos` past it.
// Precondition: `s` is valid UTF-8 (see utf8_sanitize).
char32_t utf8_next(std::string_view s, size_t& pos);

// Byte length of the UTF-8 sequence that starts with `lead` (1 for a
// continuation or invalid byte, so that loops always advance).
inline size_t utf8_seq_len(unsigned char lead) {
  return lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

void utf8_append(std::string& out, char32_t cp);

// Length of the longest prefix of `s` that is well-formed UTF-8.
size_t utf8_valid_prefix(std::string_view s);

inline bool utf8_is_valid(std::string_view s) { return utf8_valid_prefix(s) == s.size(); }

// `s` with every maximal ill-formed subsequence replaced by U+FFFD.
std::string utf8_sanitize(std::string_view s);

// Number of trailing bytes of `s` that form the start of a UTF-8 sequence
// still waiting for its continuation bytes (0 when `s` ends on a boundary or
// with an ill-formed sequence that no further byte can complete).
size_t utf8_incomplete_tail(std::string_view s);

}  // namespace llmbatch::tokenizer
