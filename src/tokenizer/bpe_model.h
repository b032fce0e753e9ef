// The BPE model of tokenizer.json: a vocabulary, ranked merges, and what to
// do with characters outside the vocabulary (byte fallback to <0xNN>, an
// unknown token, fused or not).
//
// Byte-level tokenizers (GPT-2, Llama-3, Qwen2) spell bytes as characters
// (see byte_level.h). This model translates such a vocabulary to raw bytes
// once at load time, so encoding never maps text to those characters: a word
// is a byte string and each byte an initial symbol. Merges are keyed by id
// pairs, so they need no translation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tokenizer/json_fields.h"

namespace llmbatch::tokenizer {

// Hash for heterogeneous string lookups (find with a string_view).
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using TokenMap = std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>>;

class BpeModel {
 public:
  // Reads a "model" object of type BPE. Throws ModelFormatError for a bad
  // vocabulary or merge (naming the merge), UnsupportedError for dropout or
  // word affixes.
  BpeModel(const Json& spec, const JsonPath& at, bool byte_level);

  // Appends the ids of one pre-tokenized word (raw bytes when byte-level,
  // else valid UTF-8). Uses a per-thread cache of recent words.
  void tokenize(std::string_view word, std::vector<uint32_t>& ids) const;

  std::optional<uint32_t> token_to_id(std::string_view token) const;
  // The vocabulary string of `id`, or nullptr when the model has none.
  const std::string* id_to_token(uint32_t id) const;
  // One more than the largest id of the vocabulary.
  size_t vocab_size() const { return id_to_token_.size(); }
  // How many tokens the vocabulary has (ids may have gaps).
  size_t entry_count() const { return vocab_.size(); }
  bool byte_level() const { return byte_level_; }

 private:
  struct Symbol {
    uint32_t id;
    int32_t prev;
    int32_t next;
  };
  void initial_symbols(std::string_view word, std::vector<Symbol>& symbols) const;
  void add_unit(std::string_view unit, std::vector<Symbol>& symbols,
                std::optional<uint32_t>& pending_unk) const;
  void merge(std::vector<Symbol>& symbols) const;
  // (rank, merged id) of the pair, if it merges.
  std::optional<std::pair<uint32_t, uint32_t>> find_merge(uint32_t left, uint32_t right) const;
  void tokenize_uncached(std::string_view word, std::vector<uint32_t>& ids) const;
  void tokenize_cached(std::string_view word, std::vector<uint32_t>& ids) const;
  void tokenize_long(std::string_view word, std::vector<uint32_t>& ids) const;

  bool byte_level_;
  bool ignore_merges_;
  bool byte_fallback_;
  bool fuse_unk_;
  std::optional<uint32_t> unk_id_;
  TokenMap vocab_;            // as written in the file
  TokenMap symbols_;          // in the model's alphabet: raw bytes when byte-level
  std::vector<std::string> id_to_token_;
  std::vector<bool> has_id_;  // ids may have gaps
  std::vector<int64_t> byte_symbol_;    // byte-level: id of each single byte, or -1
  std::vector<int64_t> byte_fallback_id_;  // id of "<0xNN>", or -1
  // Open-addressing table: key (left << 32 | right), value (rank << 32 | id).
  std::vector<uint64_t> merge_keys_;
  std::vector<uint64_t> merge_values_;
  uint64_t merge_mask_ = 0;
  // Non-byte-level only: every pair of adjacent characters inside some
  // token, and the characters that are tokens of their own. Between two such
  // characters that never sit side by side in a token no merge can happen,
  // so a long word may be cut there (see tokenize_long).
  std::unordered_set<uint64_t> char_pairs_;
  std::unordered_set<char32_t> single_chars_;
  uint64_t cache_owner_;  // identifies this model to the per-thread word cache
};

}  // namespace llmbatch::tokenizer
