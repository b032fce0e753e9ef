#include "tokenizer/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace llmbatch::tokenizer {
namespace {

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  pcre2_get_error_message(code, buf, sizeof buf);
  return reinterpret_cast<const char*>(buf);
}

// Per-thread match state. The JIT stack is larger than PCRE2's 32 KiB
// default: `\s+(?!\S)` over a long whitespace run backtracks deeply.
struct ThreadState {
  pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
  pcre2_jit_stack* jit_stack = pcre2_jit_stack_create(64 * 1024, 8 * 1024 * 1024, nullptr);
  pcre2_match_context* context = pcre2_match_context_create(nullptr);
  ThreadState() { pcre2_jit_stack_assign(context, nullptr, jit_stack); }
  ~ThreadState() {
    pcre2_match_context_free(context);
    pcre2_jit_stack_free(jit_stack);
    pcre2_match_data_free(data);
  }
};

ThreadState& thread_state() {
  thread_local ThreadState state;
  return state;
}

// Oniguruma's Unicode `\s` is the White_Space property; PCRE2's also takes
// U+180E (and misses U+0085 in older versions). Spelling the set out keeps
// the Rust library's pieces.
constexpr std::string_view kWhiteSpaceSet =
    R"(\t-\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})";

// Rewrites `\s` and `\S` of an Oniguruma pattern into explicit sets. Inside
// a character class `\s` becomes the set's members; `\S` there has no
// such spelling and is refused.
std::string translate_pattern(std::string_view pattern, const std::string& where) {
  std::string out;
  out.reserve(pattern.size() + 64);
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char e = pattern[++i];
      if (e == 's') {
        out += in_class ? std::string(kWhiteSpaceSet) : "[" + std::string(kWhiteSpaceSet) + "]";
      } else if (e == 'S') {
        if (in_class) {
          throw UnsupportedError("regex '" + std::string(pattern) + "' uses \\S inside a class",
                                 {.key = where});
        }
        out += "[^" + std::string(kWhiteSpaceSet) + "]";
      } else {
        out += c;
        out += e;
      }
      continue;
    }
    if (c == '[' && !in_class) {
      in_class = true;
      out += c;
      // A ']' or '^]' right after '[' is a literal member, not the end.
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') out += pattern[++i];
      continue;
    }
    if (c == ']' && in_class) in_class = false;
    out += c;
  }
  return out;
}

}  // namespace

struct Regex::Impl {
  pcre2_code* code = nullptr;
  bool jit = false;
};

Regex::Regex(std::string_view pattern, bool literal, const std::string& where)
    : impl_(std::make_unique<Impl>()), pattern_(pattern) {
  if (!utf8_is_valid(pattern)) {
    throw ModelFormatError("regex pattern is not valid UTF-8", {.key = where});
  }
  int err = 0;
  PCRE2_SIZE err_offset = 0;
  // PCRE2 refuses UCP together with LITERAL; a literal needs no classes.
  const uint32_t options = PCRE2_UTF | (literal ? PCRE2_LITERAL : PCRE2_UCP);
  const std::string source = literal ? std::string(pattern) : translate_pattern(pattern, where);
  impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(source.data()), source.size(),
                              options, &err, &err_offset, nullptr);
  if (impl_->code == nullptr) {
    throw ModelFormatError("regex '" + std::string(pattern) + "' does not compile: " +
                               pcre2_message(err) + " at offset " + std::to_string(err_offset),
                           {.key = where}, "the pattern must be a PCRE/Oniguruma-style regex");
  }
  impl_->jit = pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE) == 0;
}

Regex::~Regex() { pcre2_code_free(impl_->code); }

void Regex::find_all(std::string_view text, std::vector<MatchSpan>& out) const {
  ThreadState& state = thread_state();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t pos = 0;
  while (pos <= text.size()) {
    const int rc =
        impl_->jit ? pcre2_jit_match(impl_->code, subject, text.size(), pos, 0, state.data,
                                     state.context)
                   : pcre2_match(impl_->code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK,
                                 state.data, state.context);
    if (rc == PCRE2_ERROR_NOMATCH) return;
    if (rc < 0) {
      throw InputError("regex '" + pattern_ + "' failed on the input: " + pcre2_message(rc),
                       {}, "the text may be too long for this pattern; split it");
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(state.data);
    out.push_back({ov[0], ov[1]});
    if (ov[1] > ov[0]) {
      pos = ov[1];
    } else if (ov[1] < text.size()) {
      pos = ov[1] + utf8_seq_len(static_cast<unsigned char>(text[ov[1]]));
    } else {
      return;
    }
  }
}

}  // namespace llmbatch::tokenizer
