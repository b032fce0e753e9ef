// A Hugging Face tokenizer (tokenizer.json), giving exactly the ids of the
// Rust `tokenizers` library for the BPE tokenizers of Llama-family models.
//
//   auto tok = Tokenizer::load("models/llama-3.1-8b");        // dir or file
//   std::vector<uint32_t> ids = tok.encode("Hello", {.add_special_tokens = true});
//   std::string text = tok.decode(ids, /*skip_special_tokens=*/true);
//
// Encoding runs, per piece between added tokens: normalizer, pre-tokenizer,
// BPE; then the post-processor adds BOS/EOS when asked. Input that is not
// UTF-8 is read as Python's bytes.decode("utf-8", errors="replace") reads it:
// each maximal ill-formed sequence becomes U+FFFD.
//
// A Tokenizer is immutable after loading; encode and decode are safe to call
// from many threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/added_vocabulary.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/post_processor.h"

namespace llmbatch::tokenizer {

class BpeModel;
class Decoder;
class Normalizer;
class PreTokenizer;

struct EncodeOptions {
  // Add what the post-processor adds (HF's add_special_tokens=True).
  bool add_special_tokens = false;
  // Match special-token text in the input as special tokens; false reads it
  // as plain text (HF's encode_special_tokens=True), for scraped datasets.
  bool parse_special = true;
};

class Tokenizer {
 public:
  // `path` is a tokenizer.json file or a directory holding one (and
  // optionally tokenizer_config.json). Throws IoError, ModelFormatError or
  // UnsupportedError naming the component that cannot be used.
  static Tokenizer load(const std::string& path);
  // From the text of a tokenizer.json; `source` names it in errors.
  static Tokenizer from_json(std::string_view json_text, const std::string& source = "tokenizer.json");

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  std::vector<uint32_t> encode(std::string_view text, const EncodeOptions& options = {}) const;
  // Encodes each text, in order, on `threads` threads (0: all cores).
  std::vector<std::vector<uint32_t>> encode_batch(std::span<const std::string> texts,
                                                  const EncodeOptions& options = {},
                                                  size_t threads = 0) const;
  // The text of `ids`, through the decoder. Throws InputError for an id
  // that has no token (the Rust library silently drops it).
  std::string decode(std::span<const uint32_t> ids, bool skip_special_tokens = false) const;

  std::optional<uint32_t> token_to_id(std::string_view token) const;
  std::optional<std::string> id_to_token(uint32_t id) const;
  bool is_special(uint32_t id) const;
  // One more than the largest id (model vocabulary and added tokens).
  size_t vocab_size() const;

  // From tokenizer_config.json when it was loaded (else nullopt / {}).
  std::optional<std::string> bos_token() const;
  std::optional<std::string> eos_token() const;
  const Json& config() const { return config_; }

 private:
  Tokenizer();
  void encode_piece(std::string_view text, bool at_start, bool parse_special,
                    std::vector<uint32_t>& ids) const;
  std::optional<std::string> config_token(const char* key) const;

  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<BpeModel> model_;
  std::unique_ptr<Decoder> decoder_;
  AddedVocabulary added_;
  PostProcessor post_processor_;
  Json config_ = Json::object();
};

}  // namespace llmbatch::tokenizer
