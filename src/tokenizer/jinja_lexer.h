// Jinja template source -> tokens, with the whitespace rules transformers
// renders chat templates under: trim_blocks=True, lstrip_blocks=True,
// keep_trailing_newline=False (transformers' _compile_jinja_template).
//
//   trim_blocks     the first newline after a `%}` or `#}` is dropped
//   lstrip_blocks   spaces and tabs between a line start and `{%` / `{#` are dropped
//   `{%-` `-%}`     strip all whitespace before / after the tag (also `{{-`, `-}}`, `{#-`, `-#}`)
//   `{%+` `+%}`     keep the whitespace that lstrip_blocks / trim_blocks would drop
//
// Like Jinja, "\r\n" and "\r" become "\n" and one trailing newline of the
// template is dropped before lexing. Comments vanish; `{% raw %}` bodies
// become data.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace llmbatch::jinja {

// The normalized template text, and line:column for error messages.
class SourceText {
 public:
  // `origin` names the template in errors (a file path, or empty).
  SourceText(std::string raw, std::string origin);

  const std::string& text() const { return text_; }
  const std::string& origin() const { return origin_; }
  // 1-based line and column (in code points) of a byte offset into text().
  std::pair<int, int> line_column(size_t offset) const;
  // "line 3, column 7"
  std::string where(size_t offset) const;

  // A template that is not valid Jinja: throws ConfigError.
  [[noreturn]] void syntax_error(size_t offset, const std::string& what) const;
  // Valid Jinja that llmbatch does not implement: throws UnsupportedError.
  [[noreturn]] void unsupported(size_t offset, const std::string& what) const;

 private:
  std::string text_;
  std::string origin_;
  std::vector<size_t> line_starts_;
};

enum class TokenKind {
  kData,           // template text between tags
  kVariableBegin,  // {{
  kVariableEnd,    // }}
  kBlockBegin,     // {%
  kBlockEnd,       // %}
  kName,
  kString,         // text holds the unescaped value
  kInteger,
  kFloat,
  kOperator,       // text holds the operator: "+", "//", "(", ...
  kEnd,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;
  int64_t int_value = 0;
  double float_value = 0.0;
  size_t offset = 0;  // into SourceText::text()
};

// Throws ConfigError (via SourceText) for unclosed tags, comments and
// strings, unbalanced brackets and characters that start no token.
std::vector<Token> tokenize(const SourceText& source);

}  // namespace llmbatch::jinja
