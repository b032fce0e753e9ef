#include "tokenizer/normalizer.h"

#include <vector>

#include "core/error.h"

#include "tokenizer/pattern.h"
#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"

namespace llmbatch::tokenizer {
namespace {

class UnicodeNormalizer final : public Normalizer {
 public:
  explicit UnicodeNormalizer(UnicodeForm form) : form_(form) {}
  void normalize(std::string& text) const override { text = unicode_normalize(text, form_); }

 private:
  UnicodeForm form_;
};

class Lowercase final : public Normalizer {
 public:
  void normalize(std::string& text) const override { text = unicode_lowercase(text); }
};

// Prepends a string to non-empty text (SentencePiece's "▁" before a piece).
class Prepend final : public Normalizer {
 public:
  explicit Prepend(std::string prefix) : prefix_(std::move(prefix)) {}
  void normalize(std::string& text) const override {
    if (!text.empty()) text.insert(0, prefix_);
  }

 private:
  std::string prefix_;
};

class Replace final : public Normalizer {
 public:
  Replace(std::unique_ptr<Regex> pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void normalize(std::string& text) const override {
    text = pattern_replace_all(*pattern_, text, content_);
  }

 private:
  std::unique_ptr<Regex> pattern_;
  std::string content_;
};

// Removes leading and/or trailing White_Space characters.
class Strip final : public Normalizer {
 public:
  Strip(bool left, bool right) : left_(left), right_(right) {}
  void normalize(std::string& text) const override {
    size_t begin = 0, end = text.size();
    if (left_) {
      while (begin < end) {
        size_t next = begin;
        if (!unicode_is_whitespace(utf8_next(text, next))) break;
        begin = next;
      }
    }
    if (right_) {
      while (end > begin) {
        size_t start = end - 1;
        while (start > begin && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
        size_t next = start;
        if (!unicode_is_whitespace(utf8_next(text, next))) break;
        end = start;
      }
    }
    text = text.substr(begin, end - begin);
  }

 private:
  bool left_, right_;
};

class Sequence final : public Normalizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<Normalizer>> steps) : steps_(std::move(steps)) {}
  void normalize(std::string& text) const override {
    for (const auto& step : steps_) step->normalize(text);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

}  // namespace

std::unique_ptr<Normalizer> normalizer_from_json(const Json& spec, const JsonPath& at) {
  const std::string type = json_type(spec, at);
  if (type == "NFC") return std::make_unique<UnicodeNormalizer>(UnicodeForm::kNfc);
  if (type == "NFD") return std::make_unique<UnicodeNormalizer>(UnicodeForm::kNfd);
  if (type == "NFKC") return std::make_unique<UnicodeNormalizer>(UnicodeForm::kNfkc);
  if (type == "NFKD") return std::make_unique<UnicodeNormalizer>(UnicodeForm::kNfkd);
  if (type == "Lowercase") return std::make_unique<Lowercase>();
  if (type == "Prepend") return std::make_unique<Prepend>(json_string(spec, "prepend", at));
  if (type == "Replace") {
    return std::make_unique<Replace>(pattern_from_json(json_require(spec, "pattern", at),
                                                       at / "pattern"),
                                     json_string(spec, "content", at));
  }
  if (type == "Strip") {
    return std::make_unique<Strip>(json_bool(spec, "strip_left", at, true),
                                   json_bool(spec, "strip_right", at, true));
  }
  if (type == "Sequence") {
    const Json& list = json_require(spec, "normalizers", at);
    if (!list.is_array()) {
      throw ModelFormatError("'normalizers' must be a list",
                             {.file = at.file, .key = (at / "normalizers").key});
    }
    std::vector<std::unique_ptr<Normalizer>> steps;
    for (size_t i = 0; i < list.size(); ++i) {
      steps.push_back(normalizer_from_json(list[i], (at / "normalizers")[i]));
    }
    return std::make_unique<Sequence>(std::move(steps));
  }
  json_unsupported("normalizer", type, at);
}

}  // namespace llmbatch::tokenizer
