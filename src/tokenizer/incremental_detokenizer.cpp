#include "tokenizer/incremental_detokenizer.h"

#include <algorithm>

#include "tokenizer/tokenizer.h"

namespace llmbatch::tokenizer {
namespace {

// How many context ids decide how the first streamed token decodes. A few
// are enough for every decoder here (they look at most at the first token).
constexpr size_t kContextWindow = 5;
constexpr size_t kMaxContextWindow = 64;

bool ends_with_replacement(const std::string& s) { return s.ends_with("\xEF\xBF\xBD"); }

// Length of the common prefix of `a` and `b`, backed off to a character
// boundary of `b`.
size_t common_prefix(const std::string& a, const std::string& b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  while (n > 0 && n < b.size() && (static_cast<unsigned char>(b[n]) & 0xC0) == 0x80) --n;
  return n;
}

}  // namespace

IncrementalDetokenizer::IncrementalDetokenizer(const Tokenizer& tokenizer,
                                               bool skip_special_tokens,
                                               std::span<const uint32_t> context)
    : tokenizer_(tokenizer), skip_special_tokens_(skip_special_tokens) {
  // Widen the window while its text starts inside a character (U+FFFD from
  // byte tokens cut off from the start of their run), within a bound.
  size_t keep = std::min(context.size(), kContextWindow);
  while (keep < context.size() && keep < kMaxContextWindow &&
         tokenizer_.decode(context.last(keep), skip_special_tokens_).starts_with("\xEF\xBF\xBD")) {
    ++keep;
  }
  ids_.assign(context.end() - static_cast<ptrdiff_t>(keep), context.end());
  prefix_offset_ = 0;
  read_offset_ = ids_.size();
}

std::string IncrementalDetokenizer::window_text(size_t end) const {
  return tokenizer_.decode(std::span(ids_).subspan(prefix_offset_, end - prefix_offset_),
                           skip_special_tokens_);
}

std::string IncrementalDetokenizer::add(uint32_t id) {
  ids_.push_back(id);
  const std::string done = window_text(read_offset_);
  const std::string now = window_text(ids_.size());
  if (now.size() <= done.size() || ends_with_replacement(now)) return {};
  const size_t from = now.starts_with(done) ? done.size() : common_prefix(done, now);
  prefix_offset_ = read_offset_;
  read_offset_ = ids_.size();
  // Drop ids before the window so that memory stays bounded on long streams.
  if (prefix_offset_ > 64) {
    ids_.erase(ids_.begin(), ids_.begin() + static_cast<ptrdiff_t>(prefix_offset_));
    read_offset_ -= prefix_offset_;
    prefix_offset_ = 0;
  }
  return now.substr(from);
}

std::string IncrementalDetokenizer::flush() {
  const std::string done = window_text(read_offset_);
  const std::string now = window_text(ids_.size());
  prefix_offset_ = read_offset_ = ids_.size();
  if (now.size() <= done.size()) return {};
  return now.substr(now.starts_with(done) ? done.size() : common_prefix(done, now));
}

}  // namespace llmbatch::tokenizer
