#include "tokenizer/pre_tokenizer.h"

#include <functional>

#include "core/error.h"
#include "tokenizer/pattern.h"
#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"

namespace llmbatch::tokenizer {
namespace {

// GPT-2's word pattern (ByteLevel with use_regex). Written with explicit
// classes where Oniguruma's Unicode `\s` and PCRE2's differ.
constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
// The Whitespace pre-tokenizer's `\w+|[^\w\s]+` with Oniguruma's Unicode \w,
// which also holds the join controls (U+200C, U+200D).
constexpr const char* kWordPattern =
    R"([\p{L}\p{M}\p{Nd}\p{Pc}\x{200C}\x{200D}]+|[^\p{L}\p{M}\p{Nd}\p{Pc}\x{200C}\x{200D}\s]+)";

// Applies `cut` to each piece, collecting the results.
template <typename Cut>
void for_each_piece(PreTokenized& pt, Cut&& cut) {
  std::vector<Piece> out;
  out.reserve(pt.pieces.size() * 2);
  const std::vector<Piece> in = std::move(pt.pieces);
  for (const Piece& p : in) cut(p, out);
  pt.pieces = std::move(out);
}

// Each character for which `pred` holds is a match of its own.
void char_matches(std::string_view text, const std::function<bool(char32_t)>& pred,
                  std::vector<MatchSpan>& out) {
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t start = pos;
    if (pred(utf8_next(text, pos))) out.push_back({start, pos});
  }
}

class RegexSplit final : public PreTokenizer {
 public:
  RegexSplit(std::unique_ptr<Regex> re, SplitBehavior behavior, bool invert)
      : re_(std::move(re)), behavior_(behavior), invert_(invert) {}
  void pre_tokenize(PreTokenized& pt) const override {
    std::vector<MatchSpan> matches;
    for_each_piece(pt, [&](const Piece& p, std::vector<Piece>& out) {
      matches.clear();
      re_->find_all(pt.text(p), matches);
      split_piece(p, matches, invert_, behavior_, out);
    });
  }

 private:
  std::unique_ptr<Regex> re_;
  SplitBehavior behavior_;
  bool invert_;
};

class CharSplit final : public PreTokenizer {
 public:
  CharSplit(std::function<bool(char32_t)> pred, SplitBehavior behavior)
      : pred_(std::move(pred)), behavior_(behavior) {}
  void pre_tokenize(PreTokenized& pt) const override {
    std::vector<MatchSpan> matches;
    for_each_piece(pt, [&](const Piece& p, std::vector<Piece>& out) {
      matches.clear();
      char_matches(pt.text(p), pred_, matches);
      split_piece(p, matches, false, behavior_, out);
    });
  }

 private:
  std::function<bool(char32_t)> pred_;
  SplitBehavior behavior_;
};

// Adds a space in front of pieces that lack one (add_prefix_space), then
// cuts with GPT-2's pattern (use_regex). Bytes are mapped later, by the model.
class ByteLevel final : public PreTokenizer {
 public:
  ByteLevel(bool add_prefix_space, bool use_regex) : add_prefix_space_(add_prefix_space) {
    if (use_regex) regex_ = std::make_unique<Regex>(kGpt2Pattern, false, "ByteLevel");
  }
  void pre_tokenize(PreTokenized& pt) const override {
    if (add_prefix_space_) {
      for (Piece& p : pt.pieces) {
        if (pt.text(p).starts_with(' ')) continue;
        const size_t begin = pt.buffer.size();
        pt.buffer += ' ';
        pt.buffer.append(pt.buffer, p.begin, p.end - p.begin);
        p = {begin, pt.buffer.size(), p.at_start};
      }
    }
    if (!regex_) return;
    std::vector<MatchSpan> matches;
    for_each_piece(pt, [&](const Piece& p, std::vector<Piece>& out) {
      matches.clear();
      regex_->find_all(pt.text(p), matches);
      split_piece(p, matches, false, SplitBehavior::kIsolated, out);
    });
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> regex_;
};

enum class PrependScheme { kAlways, kFirst, kNever };

// SentencePiece spaces: ' ' becomes the replacement ('▁'), which is also
// prepended, and pieces are cut in front of each replacement.
class Metaspace final : public PreTokenizer {
 public:
  Metaspace(char32_t replacement, PrependScheme scheme, bool split)
      : scheme_(scheme), split_(split), replacement_cp_(replacement) {
    utf8_append(replacement_, replacement);
  }
  void pre_tokenize(PreTokenized& pt) const override {
    for (Piece& p : pt.pieces) {
      const std::string_view text = pt.text(p);
      std::string rewritten;
      const bool prepend = scheme_ == PrependScheme::kAlways ||
                           (scheme_ == PrependScheme::kFirst && p.at_start);
      // The check for a leading replacement is on the text after ' ' became one.
      if (prepend && !(text.starts_with(' ') || text.starts_with(replacement_))) {
        rewritten = replacement_;
      }
      for (char ch : text) {
        if (ch == ' ') {
          rewritten += replacement_;
        } else {
          rewritten += ch;
        }
      }
      const size_t begin = pt.buffer.size();
      pt.buffer += rewritten;
      p = {begin, pt.buffer.size(), p.at_start};
    }
    if (!split_) return;
    std::vector<MatchSpan> matches;
    for_each_piece(pt, [&](const Piece& p, std::vector<Piece>& out) {
      matches.clear();
      char_matches(pt.text(p), [this](char32_t c) { return c == replacement_cp_; }, matches);
      split_piece(p, matches, false, SplitBehavior::kMergedWithNext, out);
    });
  }

 private:
  PrependScheme scheme_;
  bool split_;
  char32_t replacement_cp_;
  std::string replacement_;
};

class Sequence final : public PreTokenizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> steps)
      : steps_(std::move(steps)) {}
  void pre_tokenize(PreTokenized& pt) const override {
    for (const auto& step : steps_) step->pre_tokenize(pt);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

SplitBehavior behavior_from_json(const Json& spec, const JsonPath& at) {
  const std::string name = json_string(spec, "behavior", at);
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  throw ModelFormatError("unknown split behavior '" + name + "'",
                         {.file = at.file, .key = (at / "behavior").key},
                         "one of Removed, Isolated, MergedWithPrevious, MergedWithNext, "
                         "Contiguous");
}

std::unique_ptr<PreTokenizer> metaspace_from_json(const Json& spec, const JsonPath& at) {
  PrependScheme scheme = PrependScheme::kAlways;
  if (const Json* s = json_find(spec, "prepend_scheme")) {
    const std::string name = s->is_string() ? s->get<std::string>() : "";
    if (name == "always") {
      scheme = PrependScheme::kAlways;
    } else if (name == "first") {
      scheme = PrependScheme::kFirst;
    } else if (name == "never") {
      scheme = PrependScheme::kNever;
    } else {
      throw ModelFormatError("prepend_scheme must be always, first or never",
                             {.file = at.file, .key = (at / "prepend_scheme").key});
    }
  } else if (!json_bool(spec, "add_prefix_space", at, true)) {
    scheme = PrependScheme::kNever;  // the older spelling
  }
  return std::make_unique<Metaspace>(json_char(spec, "replacement", at), scheme,
                                     json_bool(spec, "split", at, true));
}

}  // namespace

std::unique_ptr<PreTokenizer> pre_tokenizer_from_json(const Json& spec, const JsonPath& at,
                                                      bool* byte_level) {
  const std::string type = json_type(spec, at);
  if (*byte_level) {
    throw UnsupportedError("a pre-tokenizer after ByteLevel is not implemented",
                           {.file = at.file, .key = at.key},
                           "llmbatch runs byte-level BPE on raw bytes, so ByteLevel must be "
                           "the last pre-tokenizer");
  }
  if (type == "ByteLevel") {
    *byte_level = true;
    return std::make_unique<ByteLevel>(json_bool(spec, "add_prefix_space", at, true),
                                       json_bool(spec, "use_regex", at, true));
  }
  if (type == "Split") {
    return std::make_unique<RegexSplit>(
        pattern_from_json(json_require(spec, "pattern", at), at / "pattern"),
        behavior_from_json(spec, at), json_bool(spec, "invert", at, false));
  }
  if (type == "Metaspace") return metaspace_from_json(spec, at);
  if (type == "Digits") {
    return std::make_unique<CharSplit>(unicode_is_numeric,
                                       json_bool(spec, "individual_digits", at, false)
                                           ? SplitBehavior::kIsolated
                                           : SplitBehavior::kContiguous);
  }
  if (type == "Punctuation") {
    const SplitBehavior behavior = json_find(spec, "behavior") ? behavior_from_json(spec, at)
                                                               : SplitBehavior::kIsolated;
    return std::make_unique<CharSplit>(unicode_is_punctuation, behavior);
  }
  if (type == "WhitespaceSplit") {
    return std::make_unique<CharSplit>(unicode_is_whitespace, SplitBehavior::kRemoved);
  }
  if (type == "Whitespace") {
    return std::make_unique<RegexSplit>(std::make_unique<Regex>(kWordPattern, false, "Whitespace"),
                                        SplitBehavior::kRemoved, /*invert=*/true);
  }
  if (type == "Sequence") {
    const Json& list = json_require(spec, "pretokenizers", at);
    if (!list.is_array()) {
      throw ModelFormatError("'pretokenizers' must be a list",
                             {.file = at.file, .key = (at / "pretokenizers").key});
    }
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    for (size_t i = 0; i < list.size(); ++i) {
      steps.push_back(pre_tokenizer_from_json(list[i], (at / "pretokenizers")[i], byte_level));
    }
    return std::make_unique<Sequence>(std::move(steps));
  }
  json_unsupported("pre-tokenizer", type, at);
}

}  // namespace llmbatch::tokenizer
