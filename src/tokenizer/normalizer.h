// Normalizers of tokenizer.json: rewrite the text of each piece between
// added tokens before pre-tokenization. Only the ids matter to llmbatch, so
// unlike the Rust library no alignment to the original offsets is kept.
#pragma once

#include <memory>
#include <string>

#include "tokenizer/json_fields.h"

namespace llmbatch::tokenizer {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Rewrites valid UTF-8 `text` in place; it stays valid UTF-8.
  virtual void normalize(std::string& text) const = 0;
};

// Builds the normalizer a tokenizer.json "normalizer" object describes:
// NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, Strip, Sequence.
// Throws UnsupportedError for other types, ModelFormatError for bad fields.
std::unique_ptr<Normalizer> normalizer_from_json(const Json& spec, const JsonPath& at);

}  // namespace llmbatch::tokenizer
