#include "tokenizer/decoder.h"

#include "core/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/pattern.h"
#include "tokenizer/utf8.h"

namespace llmbatch::tokenizer {
namespace {

// Joins all tokens into one: each token's characters as GPT-2 bytes when
// they all are such characters, else the token's own UTF-8.
class ByteLevelDecoder final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string bytes;
    for (const std::string& t : tokens) {
      if (auto b = byte_level_decode(t)) {
        bytes += *b;
      } else {
        bytes += t;
      }
    }
    tokens.assign(1, utf8_sanitize(bytes));
  }
};

// Runs of <0xNN> tokens become the text they spell, or one U+FFFD per byte
// when the run is not valid UTF-8.
class ByteFallbackDecoder final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    out.reserve(tokens.size());
    std::string run;
    size_t run_len = 0;
    auto flush = [&] {
      if (run_len == 0) return;
      if (utf8_is_valid(run)) {
        out.push_back(run);
      } else {
        for (size_t i = 0; i < run_len; ++i) out.emplace_back("\xEF\xBF\xBD");
      }
      run.clear();
      run_len = 0;
    };
    for (std::string& t : tokens) {
      if (auto b = byte_token(t)) {
        run += static_cast<char>(*b);
        ++run_len;
      } else {
        flush();
        out.push_back(std::move(t));
      }
    }
    flush();
    tokens = std::move(out);
  }

 private:
  static std::optional<unsigned char> byte_token(const std::string& t) {
    if (t.size() != 6 || !t.starts_with("<0x") || t[5] != '>') return std::nullopt;
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    const int hi = hex(t[3]), lo = hex(t[4]);
    if (hi < 0 || lo < 0) return std::nullopt;
    return static_cast<unsigned char>(hi * 16 + lo);
  }
};

class FuseDecoder final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string all;
    for (const std::string& t : tokens) all += t;
    tokens.assign(1, std::move(all));
  }
};

// Removes up to `start` leading and `stop` trailing `content` characters
// from each token.
class StripDecoder final : public Decoder {
 public:
  StripDecoder(char32_t content, size_t start, size_t stop)
      : content_(content), start_(start), stop_(stop) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::string& t : tokens) {
      std::vector<size_t> bounds;  // byte offset of each character, then the end
      std::vector<char32_t> chars;
      for (size_t pos = 0; pos < t.size();) {
        bounds.push_back(pos);
        chars.push_back(utf8_next(t, pos));
      }
      bounds.push_back(t.size());
      size_t begin = 0, end = chars.size();
      while (begin < start_ && begin < chars.size() && chars[begin] == content_) ++begin;
      for (size_t i = 0; i < stop_ && end > begin && chars[end - 1] == content_; ++i) --end;
      t = t.substr(bounds[begin], bounds[end] - bounds[begin]);
    }
  }

 private:
  char32_t content_;
  size_t start_, stop_;
};

class ReplaceDecoder final : public Decoder {
 public:
  ReplaceDecoder(std::unique_ptr<Regex> pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::string& t : tokens) t = pattern_replace_all(*pattern_, t, content_);
  }

 private:
  std::unique_ptr<Regex> pattern_;
  std::string content_;
};

// '▁' back to ' '; in the first token the replacement is dropped unless the
// pre-tokenizer never prepends one.
class MetaspaceDecoder final : public Decoder {
 public:
  MetaspaceDecoder(char32_t replacement, bool drop_first)
      : replacement_(replacement), drop_first_(drop_first) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string out;
      const std::string& t = tokens[i];
      for (size_t pos = 0; pos < t.size();) {
        const size_t start = pos;
        if (utf8_next(t, pos) != replacement_) {
          out.append(t, start, pos - start);
        } else if (!(i == 0 && drop_first_)) {
          out += ' ';
        }
      }
      tokens[i] = std::move(out);
    }
  }

 private:
  char32_t replacement_;
  bool drop_first_;
};

class SequenceDecoder final : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> steps)
      : steps_(std::move(steps)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (const auto& step : steps_) step->decode_chain(tokens);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> steps_;
};

}  // namespace

std::unique_ptr<Decoder> decoder_from_json(const Json& spec, const JsonPath& at) {
  const std::string type = json_type(spec, at);
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip") {
    return std::make_unique<StripDecoder>(json_char(spec, "content", at),
                                          json_uint(spec, "start", at), json_uint(spec, "stop", at));
  }
  if (type == "Replace") {
    return std::make_unique<ReplaceDecoder>(
        pattern_from_json(json_require(spec, "pattern", at), at / "pattern"),
        json_string(spec, "content", at));
  }
  if (type == "Metaspace") {
    bool drop_first = json_bool(spec, "add_prefix_space", at, true);
    if (const Json* s = json_find(spec, "prepend_scheme"); s != nullptr && s->is_string()) {
      drop_first = s->get<std::string>() != "never";
    }
    return std::make_unique<MetaspaceDecoder>(json_char(spec, "replacement", at), drop_first);
  }
  if (type == "Sequence") {
    const Json& list = json_require(spec, "decoders", at);
    if (!list.is_array()) {
      throw ModelFormatError("'decoders' must be a list",
                             {.file = at.file, .key = (at / "decoders").key});
    }
    std::vector<std::unique_ptr<Decoder>> steps;
    for (size_t i = 0; i < list.size(); ++i) {
      steps.push_back(decoder_from_json(list[i], (at / "decoders")[i]));
    }
    return std::make_unique<SequenceDecoder>(std::move(steps));
  }
  json_unsupported("decoder", type, at);
}

}  // namespace llmbatch::tokenizer
