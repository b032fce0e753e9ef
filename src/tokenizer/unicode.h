// Unicode character properties and transforms with the meaning the Rust
// `tokenizers` library gives them (Rust's char methods), on top of utf8proc.
#pragma once

#include <string>
#include <string_view>

namespace llmbatch::tokenizer {

// Rust char::is_whitespace: the White_Space property.
bool unicode_is_whitespace(char32_t c);
// The regex crate's Unicode `\w` (letters, marks, decimal and letter
// numbers, connector punctuation, join controls): AddedToken.single_word.
bool unicode_is_word_char(char32_t c);
// Rust char::is_numeric: general categories Nd, Nl, No.
bool unicode_is_numeric(char32_t c);
// The Punctuation pre-tokenizer's test: ASCII punctuation or category P*.
bool unicode_is_punctuation(char32_t c);

enum class UnicodeForm { kNfc, kNfd, kNfkc, kNfkd };

// Normalizes valid UTF-8 text; input must be valid (see utf8_sanitize).
std::string unicode_normalize(std::string_view text, UnicodeForm form);

// Rust char::to_lowercase applied to each code point (full mappings, no
// context: a final sigma stays σ).
std::string unicode_lowercase(std::string_view text);

}  // namespace llmbatch::tokenizer
