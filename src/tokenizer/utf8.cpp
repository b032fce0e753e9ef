#include "tokenizer/utf8.h"

namespace llmbatch::tokenizer {
namespace {

// How many bytes of a well-formed sequence start at s[pos] (0 if none). When
// none does, `*maximal` is the length of the maximal subpart: the lead byte
// plus the continuation bytes that were still allowed before the failure.
size_t well_formed_length(std::string_view s, size_t pos, size_t* maximal) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  *maximal = 1;
  if (b0 < 0x80) return 1;
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  for (size_t k = 1; k < need; ++k) {
    if (pos + k >= s.size()) return 0;
    const auto b = static_cast<unsigned char>(s[pos + k]);
    const unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (b < l || b > h) return 0;
    *maximal = k + 1;
  }
  return need;
}

}  // namespace

char32_t utf8_next(std::string_view s, size_t& pos) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) {
    ++pos;
    return b0;
  }
  const size_t n = utf8_seq_len(b0);
  char32_t cp = n == 2 ? (b0 & 0x1F) : n == 3 ? (b0 & 0x0F) : (b0 & 0x07);
  for (size_t k = 1; k < n && pos + k < s.size(); ++k) {
    cp = (cp << 6) | (static_cast<unsigned char>(s[pos + k]) & 0x3F);
  }
  pos += n;
  return cp;
}

void utf8_append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

size_t utf8_valid_prefix(std::string_view s) {
  size_t pos = 0, maximal = 0;
  while (pos < s.size()) {
    if (static_cast<unsigned char>(s[pos]) < 0x80) {
      ++pos;
      continue;
    }
    const size_t n = well_formed_length(s, pos, &maximal);
    if (n == 0) return pos;
    pos += n;
  }
  return pos;
}

std::string utf8_sanitize(std::string_view s) {
  size_t valid = utf8_valid_prefix(s);
  if (valid == s.size()) return std::string(s);
  std::string out(s.substr(0, valid));
  size_t pos = valid, maximal = 0;
  while (pos < s.size()) {
    const size_t n = well_formed_length(s, pos, &maximal);
    if (n == 0) {
      utf8_append(out, kReplacementChar);
      pos += maximal;
    } else {
      out.append(s, pos, n);
      pos += n;
    }
  }
  return out;
}

size_t utf8_incomplete_tail(std::string_view s) {
  // A sequence is at most 4 bytes, so only the last 3 can still be waiting.
  for (size_t back = 1; back <= 3 && back <= s.size(); ++back) {
    const size_t pos = s.size() - back;
    const auto b = static_cast<unsigned char>(s[pos]);
    if (b >= 0x80 && b < 0xC0) continue;  // continuation: look further back
    size_t maximal = 0;
    // Incomplete exactly when the sequence is cut by the end of `s` after
    // every byte so far was allowed.
    if (b >= 0xC2 && b <= 0xF4 && well_formed_length(s, pos, &maximal) == 0 && maximal == back &&
        utf8_seq_len(b) > back) {
      return back;
    }
    return 0;
  }
  return 0;
}

}  // namespace llmbatch::tokenizer
