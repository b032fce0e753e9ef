#include "tokenizer/jinja_lexer.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <string_view>

#include "core/error.h"
#include "tokenizer/jinja_text.h"

namespace llmbatch::jinja {
namespace {

constexpr std::string_view kHint =
    "fix the template (Jinja syntax: https://jinja.palletsprojects.com/templates/)";

std::string normalize_newlines(const std::string& raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\r') {
      out += '\n';
      if (i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
    } else {
      out += raw[i];
    }
  }
  // keep_trailing_newline=False: Jinja drops exactly one final newline.
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_ascii_digit(c); }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Lexer {
 public:
  explicit Lexer(const SourceText& source) : source_(source), s_(source.text()) {}

  std::vector<Token> run() {
    while (pos_ < s_.size()) {
      const size_t tag = find_tag_start(pos_);
      if (tag == std::string::npos) {
        emit_data(s_.substr(pos_), pos_);
        break;
      }
      const char kind = s_[tag + 1];
      const char sign = tag + 2 < s_.size() && (s_[tag + 2] == '-' || s_[tag + 2] == '+') ? s_[tag + 2] : 0;
      const bool line_starting = pos_ == 0 || s_[pos_ - 1] == '\n';
      emit_data(strip_before_tag(std::string_view(s_).substr(pos_, tag - pos_), kind, sign, line_starting),
                pos_);
      const size_t after = tag + (sign != 0 ? 3 : 2);
      if (kind == '#') {
        lex_comment(tag, after);
      } else if (kind == '%' && lex_raw(tag, after)) {
        // raw body emitted as data
      } else {
        lex_tag(kind, tag, after);
      }
    }
    tokens_.push_back(Token{.kind = TokenKind::kEnd, .offset = s_.size()});
    return std::move(tokens_);
  }

 private:
  size_t find_tag_start(size_t from) const {
    for (size_t at = s_.find('{', from); at != std::string::npos; at = s_.find('{', at + 1)) {
      if (at + 1 < s_.size() && (s_[at + 1] == '{' || s_[at + 1] == '%' || s_[at + 1] == '#')) return at;
    }
    return std::string::npos;
  }

  // The whitespace control of Jinja's OptionalLStrip rule.
  static std::string strip_before_tag(std::string_view text, char kind, char sign, bool line_starting) {
    if (sign == '-') return py_strip(text, false, true);
    if (sign != '+' && kind != '{') {
      const size_t line_start = text.rfind('\n') == std::string_view::npos ? 0 : text.rfind('\n') + 1;
      const std::string_view tail = text.substr(line_start);
      const bool blank = tail.find_first_not_of(" \t") == std::string_view::npos;
      if ((line_start > 0 || line_starting) && blank) return std::string(text.substr(0, line_start));
    }
    return std::string(text);
  }

  void emit_data(std::string text, size_t offset) {
    if (!text.empty()) tokens_.push_back(Token{.kind = TokenKind::kData, .text = std::move(text), .offset = offset});
  }

  void skip_whitespace(size_t& p) const {
    while (p < s_.size()) {
      const unsigned char c = static_cast<unsigned char>(s_[p]);
      if (c < 0x80) {
        if (!py_isspace(c)) return;
        ++p;
        continue;
      }
      // A non-ASCII space (U+00A0, U+3000...) also counts, as in Python's \s.
      size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
      len = std::min(len, s_.size() - p);
      const std::u32string cp = utf8_decode(std::string_view(s_).substr(p, len));
      if (cp.size() != 1 || !py_isspace(cp[0])) return;
      p += len;
    }
  }

  // After an end marker: "-" strips all whitespace, "+" keeps it, and a
  // plain `%}` / `#}` eats one newline (trim_blocks).
  void after_end_marker(size_t& p, char sign, bool trim_newline) const {
    if (sign == '-') {
      skip_whitespace(p);
    } else if (sign != '+' && trim_newline && p < s_.size() && s_[p] == '\n') {
      ++p;
    }
  }

  void lex_comment(size_t tag, size_t after) {
    const size_t end = s_.find("#}", after);
    if (end == std::string::npos) source_.syntax_error(tag, "missing end of comment tag '#}'");
    const char sign = end > after && (s_[end - 1] == '-' || s_[end - 1] == '+') ? s_[end - 1] : 0;
    pos_ = end + 2;
    after_end_marker(pos_, sign, true);
  }

  // `{% raw %}...{% endraw %}`: returns false when the tag is not `raw`.
  bool lex_raw(size_t tag, size_t after) {
    size_t p = after;
    skip_whitespace(p);
    if (s_.compare(p, 3, "raw") != 0) return false;
    p += 3;
    skip_whitespace(p);
    char begin_sign = 0;
    if (s_.compare(p, 3, "-%}") == 0) {
      begin_sign = '-';
      p += 3;
    } else if (s_.compare(p, 2, "%}") == 0) {
      p += 2;
    } else {
      return false;
    }
    after_end_marker(p, begin_sign, false);
    const size_t body = p;
    for (size_t at = s_.find("{%", body); at != std::string::npos; at = s_.find("{%", at + 1)) {
      size_t q = at + 2;
      const char sign = q < s_.size() && (s_[q] == '-' || s_[q] == '+') ? s_[q] : 0;
      if (sign != 0) ++q;
      skip_whitespace(q);
      if (s_.compare(q, 6, "endraw") != 0) continue;
      q += 6;
      skip_whitespace(q);
      char end_sign = 0;
      if (s_.compare(q, 3, "-%}") == 0 || s_.compare(q, 3, "+%}") == 0) {
        end_sign = s_[q];
        q += 3;
      } else if (s_.compare(q, 2, "%}") == 0) {
        q += 2;
      } else {
        continue;
      }
      const bool line_starting = body == 0 || s_[body - 1] == '\n';
      emit_data(strip_before_tag(std::string_view(s_).substr(body, at - body), '%', sign, line_starting), body);
      pos_ = q;
      after_end_marker(pos_, end_sign, true);
      return true;
    }
    source_.syntax_error(tag, "missing end of raw directive '{% endraw %}'");
  }

  void lex_tag(char kind, size_t tag, size_t after) {
    const bool block = kind == '%';
    tokens_.push_back(Token{.kind = block ? TokenKind::kBlockBegin : TokenKind::kVariableBegin, .offset = tag});
    std::vector<std::pair<char, size_t>> open;  // brackets not closed yet
    size_t p = after;
    while (true) {
      if (p >= s_.size()) {
        if (!open.empty()) {
          source_.syntax_error(open.back().second, std::string("unclosed '") + open.back().first + "'");
        }
        source_.syntax_error(tag, block ? "unclosed block tag: '{%' without a matching '%}'"
                                        : "unclosed variable tag: '{{' without a matching '}}'");
      }
      if (open.empty() && lex_tag_end(block, p)) return;
      const char c = s_[p];
      if (py_isspace(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) >= 0x80) {
        const size_t before = p;
        skip_whitespace(p);
        if (p == before) source_.syntax_error(p, "unexpected character in tag (names must be ASCII)");
      } else if (is_ascii_digit(c)) {
        lex_number(p);
      } else if (is_name_start(c)) {
        const size_t start = p;
        while (p < s_.size() && is_name_char(s_[p])) ++p;
        tokens_.push_back(Token{.kind = TokenKind::kName, .text = s_.substr(start, p - start), .offset = start});
      } else if (c == '\'' || c == '"') {
        lex_string(p);
      } else {
        lex_operator(p, open);
      }
    }
  }

  bool lex_tag_end(bool block, size_t& p) {
    const std::string_view close = block ? "%}" : "}}";
    char sign = 0;
    size_t q = p;
    if ((s_[q] == '-' || (block && s_[q] == '+')) && s_.compare(q + 1, 2, close) == 0) {
      sign = s_[q];
      ++q;
    } else if (s_.compare(q, 2, close) != 0) {
      return false;
    }
    tokens_.push_back(Token{.kind = block ? TokenKind::kBlockEnd : TokenKind::kVariableEnd, .offset = p});
    pos_ = q + 2;
    after_end_marker(pos_, sign, block);
    return true;
  }

  // Digits with optional '_' separators.
  size_t scan_digits(size_t p, int (*digit)(char), int base) const {
    const size_t start = p;
    while (p < s_.size()) {
      if (digit(s_[p]) >= 0 && digit(s_[p]) < base) {
        ++p;
      } else if (s_[p] == '_' && p > start && p + 1 < s_.size() && digit(s_[p + 1]) >= 0 &&
                 digit(s_[p + 1]) < base) {
        ++p;
      } else {
        break;
      }
    }
    return p;
  }

  void lex_number(size_t& p) {
    const size_t start = p;
    int base = 10;
    if (s_[p] == '0' && p + 2 < s_.size()) {
      const char prefix = static_cast<char>(s_[p + 1] | 0x20);
      base = prefix == 'b' ? 2 : prefix == 'o' ? 8 : prefix == 'x' ? 16 : 10;
    }
    bool is_float = false;
    size_t end;
    if (base != 10) {
      end = scan_digits(p + 2, hex_value, base);
      if (end == p + 2) base = 10;  // "0b" without digits: just 0
    }
    if (base == 10) {
      end = scan_digits(p, hex_value, 10);
      // Jinja's float rule does not apply right after a '.' (`a.0.1`).
      const bool after_dot = start > 0 && s_[start - 1] == '.';
      if (!after_dot) {
        size_t q = end;
        if (q + 1 < s_.size() && s_[q] == '.' && is_ascii_digit(s_[q + 1])) {
          q = scan_digits(q + 1, hex_value, 10);
          is_float = true;
        }
        if (q < s_.size() && (s_[q] == 'e' || s_[q] == 'E')) {
          size_t r = q + 1;
          if (r < s_.size() && (s_[r] == '+' || s_[r] == '-')) ++r;
          if (r < s_.size() && is_ascii_digit(s_[r])) {
            q = scan_digits(r, hex_value, 10);
            is_float = true;
          }
        }
        end = q;
      }
    }
    std::string digits;
    for (size_t i = start + (base != 10 ? 2 : 0); i < end; ++i) {
      if (s_[i] != '_') digits += s_[i];
    }
    Token token{.kind = is_float ? TokenKind::kFloat : TokenKind::kInteger,
                .text = s_.substr(start, end - start), .offset = start};
    if (is_float) {
      token.float_value = std::strtod(digits.c_str(), nullptr);
    } else {
      const auto result = std::from_chars(digits.data(), digits.data() + digits.size(), token.int_value, base);
      if (result.ec != std::errc()) source_.syntax_error(start, "integer literal out of the 64-bit range");
    }
    tokens_.push_back(std::move(token));
    p = end;
  }

  void lex_string(size_t& p) {
    const size_t start = p;
    const char quote = s_[p++];
    std::string value;
    while (true) {
      if (p >= s_.size()) source_.syntax_error(start, "unterminated string literal");
      const char c = s_[p];
      if (c == quote) break;
      if (c != '\\') {
        value += c;
        ++p;
        continue;
      }
      if (p + 1 >= s_.size()) source_.syntax_error(start, "unterminated string literal");
      p = unescape(p, value);
    }
    ++p;
    tokens_.push_back(Token{.kind = TokenKind::kString, .text = std::move(value), .offset = start});
  }

  // One backslash escape at `p`, decoded the way Python's unicode-escape
  // codec does (Jinja decodes string literals with it). Returns the
  // position after the escape.
  size_t unescape(size_t p, std::string& value) const {
    const char e = s_[p + 1];
    switch (e) {
      case '\n': return p + 2;  // line continuation
      case '\\': value += '\\'; return p + 2;
      case '\'': value += '\''; return p + 2;
      case '"': value += '"'; return p + 2;
      case 'a': value += '\a'; return p + 2;
      case 'b': value += '\b'; return p + 2;
      case 'f': value += '\f'; return p + 2;
      case 'n': value += '\n'; return p + 2;
      case 'r': value += '\r'; return p + 2;
      case 't': value += '\t'; return p + 2;
      case 'v': value += '\v'; return p + 2;
      case 'x':
      case 'u':
      case 'U': {
        const size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        uint32_t code = 0;
        for (size_t i = 0; i < digits; ++i) {
          const int h = p + 2 + i < s_.size() ? hex_value(s_[p + 2 + i]) : -1;
          if (h < 0) source_.syntax_error(p, std::string("truncated \\") + e + " escape in string literal");
          code = code * 16 + static_cast<uint32_t>(h);
        }
        if (code > 0x10FFFF) source_.syntax_error(p, "illegal Unicode character in string literal");
        utf8_append(value, code);
        return p + 2 + digits;
      }
      case 'N':
        source_.unsupported(p, "\\N{...} escapes in string literals");
      default:
        break;
    }
    if (e >= '0' && e <= '7') {
      uint32_t code = 0;
      size_t q = p + 1;
      for (int i = 0; i < 3 && q < s_.size() && s_[q] >= '0' && s_[q] <= '7'; ++i, ++q) {
        code = code * 8 + static_cast<uint32_t>(s_[q] - '0');
      }
      utf8_append(value, code);
      return q;
    }
    value += '\\';  // unknown escapes stay as written
    return p + 1;
  }

  void lex_operator(size_t& p, std::vector<std::pair<char, size_t>>& open) {
    static constexpr std::string_view kTwoChar[] = {"//", "**", "==", "!=", ">=", "<="};
    for (const std::string_view op : kTwoChar) {
      if (s_.compare(p, 2, op) == 0) {
        tokens_.push_back(Token{.kind = TokenKind::kOperator, .text = std::string(op), .offset = p});
        p += 2;
        return;
      }
    }
    const char c = s_[p];
    if (std::string_view("+-/*%~[](){}><=.:|,;").find(c) == std::string_view::npos) {
      source_.syntax_error(p, std::string("unexpected character '") + c + "'");
    }
    if (c == '(' || c == '[' || c == '{') {
      open.emplace_back(c, p);
    } else if (c == ')' || c == ']' || c == '}') {
      const char expected = open.empty() ? 0 : open.back().first == '(' ? ')' : open.back().first == '[' ? ']' : '}';
      if (open.empty()) source_.syntax_error(p, std::string("unexpected '") + c + "'");
      if (c != expected) {
        source_.syntax_error(p, std::string("unexpected '") + c + "', expected '" + expected + "'");
      }
      open.pop_back();
    }
    tokens_.push_back(Token{.kind = TokenKind::kOperator, .text = std::string(1, c), .offset = p});
    ++p;
  }

  const SourceText& source_;
  const std::string& s_;
  size_t pos_ = 0;
  std::vector<Token> tokens_;
};

}  // namespace

SourceText::SourceText(std::string raw, std::string origin)
    : text_(normalize_newlines(raw)), origin_(std::move(origin)) {
  line_starts_.push_back(0);
  for (size_t i = 0; i < text_.size(); ++i) {
    if (text_[i] == '\n') line_starts_.push_back(i + 1);
  }
}

std::pair<int, int> SourceText::line_column(size_t offset) const {
  offset = std::min(offset, text_.size());
  const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset) - 1;
  const size_t column = utf8_length(std::string_view(text_).substr(*it, offset - *it)) + 1;
  return {static_cast<int>(it - line_starts_.begin()) + 1, static_cast<int>(column)};
}

std::string SourceText::where(size_t offset) const {
  const auto [line, column] = line_column(offset);
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

void SourceText::syntax_error(size_t offset, const std::string& what) const {
  throw ConfigError("chat template syntax error at " + where(offset) + ": " + what, {.file = origin_},
                    std::string(kHint));
}

void SourceText::unsupported(size_t offset, const std::string& what) const {
  throw UnsupportedError("chat template at " + where(offset) + " uses " + what +
                             ", which llmbatch's Jinja interpreter does not implement",
                         {.file = origin_}, "rewrite that part of the template, or ask for the feature");
}

std::vector<Token> tokenize(const SourceText& source) { return Lexer(source).run(); }

}  // namespace llmbatch::jinja
