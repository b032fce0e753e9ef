// Added tokens of tokenizer.json ("added_tokens"): special tokens such as
// <|begin_of_text|> and user-added words, found in the text before the model
// sees it, with the Rust library's rules: leftmost-longest matching,
// single_word, lstrip/rstrip (which swallow neighbouring whitespace), and
// "normalized" tokens matched in the normalized text instead of the raw one.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/json_fields.h"

namespace llmbatch::tokenizer {

class BpeModel;
class Normalizer;

struct AddedToken {
  uint32_t id = 0;
  std::string content;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;
  bool special = false;
};

// A range of the text, and the added token it is, if any.
struct Segment {
  size_t begin;
  size_t end;
  std::optional<uint32_t> id;
};

class AddedVocabulary {
 public:
  AddedVocabulary() = default;
  // Reads the "added_tokens" list. Normalized tokens are matched in their
  // normalized spelling, hence `normalizer` (may be null). Ids are assigned
  // the way the Rust library assigns them, which can differ from the "id"
  // fields: a token the model already has keeps the model's id, and a new
  // one takes the next id after the model's `model_size` entries.
  AddedVocabulary(const Json& list, const JsonPath& at, const Normalizer* normalizer,
                  const BpeModel& model);

  // Splits `text` into added tokens and the text between them, covering all
  // of it. `normalized` picks the set of tokens matched in normalized text;
  // with `parse_special` false, special tokens are not matched.
  void split(std::string_view text, bool normalized, bool parse_special,
             std::vector<Segment>& out) const;

  const AddedToken* find(uint32_t id) const;
  std::optional<uint32_t> find(std::string_view content) const;
  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  // A byte trie over the token spellings of one set.
  struct Trie {
    struct Node {
      std::vector<std::pair<unsigned char, int32_t>> children;
      int32_t token = -1;  // index into tokens_
    };
    std::vector<Node> nodes{Node{}};
    std::array<bool, 256> first_byte{};
    void insert(std::string_view key, int32_t token);
    // Longest token spelled at `pos`: (length, token index) or token -1.
    std::pair<size_t, int32_t> longest(std::string_view text, size_t pos) const;
  };
  uint32_t assign_id(std::string_view content, const BpeModel& model) const;
  const Trie& trie(bool normalized) const { return normalized ? normalized_ : raw_; }

  std::vector<AddedToken> tokens_;
  std::unordered_map<uint32_t, size_t> by_id_;
  Trie raw_;
  Trie normalized_;
};

}  // namespace llmbatch::tokenizer
