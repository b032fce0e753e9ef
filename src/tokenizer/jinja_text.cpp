#include "tokenizer/jinja_text.h"

#include <utf8proc.h>

#include "tokenizer/jinja_error.h"

namespace llmbatch::jinja {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

bool is_cased(char32_t c) {
  const auto category = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return category == UTF8PROC_CATEGORY_LU || category == UTF8PROC_CATEGORY_LL ||
         category == UTF8PROC_CATEGORY_LT;
}

char32_t to_upper(char32_t c) { return utf8proc_toupper(static_cast<utf8proc_int32_t>(c)); }
char32_t to_lower(char32_t c) { return utf8proc_tolower(static_cast<utf8proc_int32_t>(c)); }
char32_t to_title(char32_t c) { return utf8proc_totitle(static_cast<utf8proc_int32_t>(c)); }

// Python's str.upper()/lower()/title() use Unicode's full case mappings
// (SpecialCasing.txt), where one character can become several; these are
// the unconditional ones outside Greek. Everything else maps one to one.
struct FullMapping {
  char32_t from;
  const char* upper;
  const char* title;
};
constexpr FullMapping kFullMappings[] = {
    {0x00DF, "SS", "Ss"},                          // ß
    {0x0149, "\xCA\xBCN", "\xCA\xBCN"},          // ŉ
    {0x01F0, "J\xCC\x8C", "J\xCC\x8C"},          // ǰ
    {0x0587, "\xD4\xB5\xD5\x92", "\xD4\xB5\xD6\x82"},  // և
    {0x1E96, "H\xCC\xB1", "H\xCC\xB1"},
    {0x1E97, "T\xCC\x88", "T\xCC\x88"},
    {0x1E98, "W\xCC\x8A", "W\xCC\x8A"},
    {0x1E99, "Y\xCC\x8A", "Y\xCC\x8A"},
    {0x1E9A, "A\xCA\xBE", "A\xCA\xBE"},
    {0xFB00, "FF", "Ff"},
    {0xFB01, "FI", "Fi"},
    {0xFB02, "FL", "Fl"},
    {0xFB03, "FFI", "Ffi"},
    {0xFB04, "FFL", "Ffl"},
    {0xFB05, "ST", "St"},
    {0xFB06, "ST", "St"},
};

const FullMapping* full_mapping(char32_t c) {
  for (const FullMapping& m : kFullMappings) {
    if (m.from == c) return &m;
  }
  return nullptr;
}

enum class Case { kUpper, kLower, kTitle };

void append_case(std::string& out, char32_t c, Case to) {
  if (to == Case::kLower) {
    if (c == 0x0130) {  // İ -> i + combining dot above
      out += "i\xCC\x87";
      return;
    }
    utf8_append(out, to_lower(c));
    return;
  }
  if (const FullMapping* m = full_mapping(c)) {
    out += to == Case::kUpper ? m->upper : m->title;
    return;
  }
  utf8_append(out, to == Case::kUpper ? to_upper(c) : to_title(c));
}

std::string change_case(std::string_view text, Case to) {
  std::string out;
  out.reserve(text.size());
  for (const char32_t c : utf8_decode(text)) append_case(out, c, to);
  return out;
}

bool is_line_break(char32_t c) {
  return c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D || c == 0x1E ||
         c == 0x85 || c == 0x2028 || c == 0x2029;
}

void append_hex_escape(std::string& out, char prefix, uint32_t value, int digits) {
  static const char* const kHex = "0123456789abcdef";
  out += '\\';
  out += prefix;
  for (int i = digits - 1; i >= 0; --i) out += kHex[(value >> (4 * i)) & 0xF];
}

}  // namespace

std::u32string utf8_decode(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  utf8proc_ssize_t pos = 0;
  const auto size = static_cast<utf8proc_ssize_t>(text.size());
  while (pos < size) {
    utf8proc_int32_t c = 0;
    const utf8proc_ssize_t n = utf8proc_iterate(bytes + pos, size - pos, &c);
    if (n <= 0) {
      out += kReplacement;
      ++pos;
    } else {
      out += static_cast<char32_t>(c);
      pos += n;
    }
  }
  return out;
}

void utf8_append(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x110000) {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    utf8_append(out, kReplacement);
  }
}

std::string utf8_encode(std::u32string_view code_points) {
  std::string out;
  out.reserve(code_points.size());
  for (const char32_t c : code_points) utf8_append(out, c);
  return out;
}

size_t utf8_length(std::string_view text) {
  size_t n = 0;
  for (const char ch : text) n += (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
  return n;
}

bool py_isspace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000;
}

bool py_isprintable(char32_t c) {
  if (c == ' ') return true;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_ZS:
      return false;
    default:
      return true;
  }
}

std::string py_strip(std::string_view text, bool left, bool right,
                     const std::optional<std::string>& chars) {
  const std::u32string cps = utf8_decode(text);
  const std::u32string strip_set = chars ? utf8_decode(*chars) : std::u32string();
  auto strippable = [&](char32_t c) {
    return chars ? strip_set.find(c) != std::u32string::npos : py_isspace(c);
  };
  size_t begin = 0;
  size_t end = cps.size();
  while (left && begin < end && strippable(cps[begin])) ++begin;
  while (right && end > begin && strippable(cps[end - 1])) --end;
  return utf8_encode(std::u32string_view(cps).substr(begin, end - begin));
}

std::string py_upper(std::string_view text) { return change_case(text, Case::kUpper); }
std::string py_lower(std::string_view text) { return change_case(text, Case::kLower); }

std::string py_capitalize(std::string_view text) {
  std::string out;
  bool first = true;
  for (const char32_t c : utf8_decode(text)) {
    append_case(out, c, first ? Case::kTitle : Case::kLower);
    first = false;
  }
  return out;
}

std::string py_title(std::string_view text) {
  std::string out;
  bool previous_cased = false;
  for (const char32_t c : utf8_decode(text)) {
    append_case(out, c, previous_cased ? Case::kLower : Case::kTitle);
    previous_cased = is_cased(c);
  }
  return out;
}

std::vector<std::string> py_split(std::string_view text, const std::optional<std::string>& sep,
                                  int64_t maxsplit) {
  std::vector<std::string> parts;
  if (sep) {
    if (sep->empty()) throw TemplateRuntimeError("ValueError: empty separator");
    size_t start = 0;
    while (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) {
      const size_t hit = text.find(*sep, start);
      if (hit == std::string_view::npos) break;
      parts.emplace_back(text.substr(start, hit - start));
      start = hit + sep->size();
    }
    parts.emplace_back(text.substr(start));
    return parts;
  }
  const std::u32string cps = utf8_decode(text);
  size_t i = 0;
  while (true) {
    while (i < cps.size() && py_isspace(cps[i])) ++i;
    if (i == cps.size()) break;
    if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) == maxsplit) {
      parts.push_back(utf8_encode(std::u32string_view(cps).substr(i)));
      break;
    }
    const size_t start = i;
    while (i < cps.size() && !py_isspace(cps[i])) ++i;
    parts.push_back(utf8_encode(std::u32string_view(cps).substr(start, i - start)));
  }
  return parts;
}

std::vector<std::string> py_rsplit(std::string_view text, const std::optional<std::string>& sep,
                                   int64_t maxsplit) {
  if (maxsplit < 0) return py_split(text, sep, maxsplit);
  std::vector<std::string> parts;
  if (sep) {
    if (sep->empty()) throw TemplateRuntimeError("ValueError: empty separator");
    size_t end = text.size();
    while (static_cast<int64_t>(parts.size()) < maxsplit) {
      const size_t hit = end >= sep->size() ? text.rfind(*sep, end - sep->size()) : std::string::npos;
      if (hit == std::string_view::npos) break;
      parts.emplace_back(text.substr(hit + sep->size(), end - hit - sep->size()));
      end = hit;
    }
    parts.emplace_back(text.substr(0, end));
  } else {
    const std::u32string cps = utf8_decode(text);
    size_t i = cps.size();
    while (true) {
      while (i > 0 && py_isspace(cps[i - 1])) --i;
      if (i == 0) break;
      if (static_cast<int64_t>(parts.size()) == maxsplit) {
        parts.push_back(utf8_encode(std::u32string_view(cps).substr(0, i)));
        break;
      }
      const size_t end = i;
      while (i > 0 && !py_isspace(cps[i - 1])) --i;
      parts.push_back(utf8_encode(std::u32string_view(cps).substr(i, end - i)));
    }
  }
  return {parts.rbegin(), parts.rend()};
}

std::vector<std::string> py_splitlines(std::string_view text, bool keepends) {
  const std::u32string cps = utf8_decode(text);
  std::vector<std::string> lines;
  size_t start = 0;
  size_t i = 0;
  while (i < cps.size()) {
    if (!is_line_break(cps[i])) {
      ++i;
      continue;
    }
    size_t eol = i + 1;
    if (cps[i] == '\r' && eol < cps.size() && cps[eol] == '\n') ++eol;
    const size_t end = keepends ? eol : i;
    lines.push_back(utf8_encode(std::u32string_view(cps).substr(start, end - start)));
    start = i = eol;
  }
  if (start < cps.size()) lines.push_back(utf8_encode(std::u32string_view(cps).substr(start)));
  return lines;
}

std::string py_replace(std::string_view text, std::string_view from, std::string_view to,
                       int64_t count) {
  std::string out;
  if (from.empty()) {
    // Python inserts `to` before every code point and at the end.
    int64_t done = 0;
    for (const char32_t c : utf8_decode(text)) {
      if (count < 0 || done < count) {
        out += to;
        ++done;
      }
      utf8_append(out, c);
    }
    if (count < 0 || done < count) out += to;
    return out;
  }
  size_t start = 0;
  for (int64_t done = 0; count < 0 || done < count; ++done) {
    const size_t hit = text.find(from, start);
    if (hit == std::string_view::npos) break;
    out += text.substr(start, hit - start);
    out += to;
    start = hit + from.size();
  }
  out += text.substr(start);
  return out;
}

int64_t py_count(std::string_view text, std::string_view sub) {
  if (sub.empty()) return static_cast<int64_t>(utf8_length(text)) + 1;
  int64_t n = 0;
  for (size_t at = text.find(sub); at != std::string_view::npos; at = text.find(sub, at + sub.size())) {
    ++n;
  }
  return n;
}

int64_t py_find(std::string_view text, std::string_view sub, bool reverse) {
  const size_t at = reverse ? text.rfind(sub) : text.find(sub);
  if (at == std::string_view::npos) return -1;
  return static_cast<int64_t>(utf8_length(text.substr(0, at)));
}

std::string py_repr_string(std::string_view text) {
  const bool has_single = text.find('\'') != std::string_view::npos;
  const bool has_double = text.find('"') != std::string_view::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  for (const char32_t c : utf8_decode(text)) {
    if (c == static_cast<char32_t>(quote) || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7F) {
      append_hex_escape(out, 'x', c, 2);
    } else if (c < 0x7F || py_isprintable(c)) {
      utf8_append(out, c);
    } else if (c <= 0xFF) {
      append_hex_escape(out, 'x', c, 2);
    } else if (c <= 0xFFFF) {
      append_hex_escape(out, 'u', c, 4);
    } else {
      append_hex_escape(out, 'U', c, 8);
    }
  }
  out += quote;
  return out;
}

}  // namespace llmbatch::jinja
