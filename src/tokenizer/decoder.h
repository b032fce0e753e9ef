// Decoders of tokenizer.json: turn the vocabulary strings of ids back into
// text. Each step rewrites the list of token strings, as the Rust library's
// decode_chain does; the results are then concatenated.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenizer/json_fields.h"

namespace llmbatch::tokenizer {

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Rewrites `tokens`; every string stays valid UTF-8 (bytes that do not
  // form UTF-8 become U+FFFD, where the Rust library puts them).
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};

// Builds the decoder a tokenizer.json "decoder" object describes: ByteLevel,
// Metaspace, ByteFallback, Fuse, Strip, Replace, Sequence.
std::unique_ptr<Decoder> decoder_from_json(const Json& spec, const JsonPath& at);

}  // namespace llmbatch::tokenizer
