// PCRE2 regular expressions with the options the tokenizer.json patterns need
// (UTF, UCP so that \s \d \w and \p{..} are Unicode-aware, JIT when the
// platform has it). The Rust library uses Oniguruma; the patterns found in
// tokenizer.json files mean the same in both.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace llmbatch::tokenizer {

struct MatchSpan {
  size_t begin;
  size_t end;
};

class Regex {
 public:
  // Compiles `pattern` (a literal string when `literal`). Throws
  // ModelFormatError naming the pattern and PCRE2's message when it does not
  // compile; `where` is the JSON key path for the message.
  Regex(std::string_view pattern, bool literal, const std::string& where);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Appends the non-overlapping matches of valid UTF-8 `text`, left to
  // right. After an empty match the search resumes one character later.
  // Thread-safe: match data lives in thread-local storage.
  void find_all(std::string_view text, std::vector<MatchSpan>& out) const;

  const std::string& pattern() const { return pattern_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string pattern_;
};

}  // namespace llmbatch::tokenizer
