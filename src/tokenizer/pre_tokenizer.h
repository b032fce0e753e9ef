// Pre-tokenizers of tokenizer.json: cut each normalized piece into the words
// that BPE then encodes separately.
//
// Pieces are ranges of one buffer; a step that only cuts keeps the buffer,
// a step that rewrites text (Metaspace, ByteLevel's prefix space) appends
// the new text to it. The ByteLevel step does not map bytes to GPT-2's
// characters: llmbatch's BPE works on raw bytes (see byte_level.h).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/json_fields.h"
#include "tokenizer/regex.h"

namespace llmbatch::tokenizer {

struct Piece {
  size_t begin;
  size_t end;
  // Starts at offset 0 of the user's text (Metaspace prepend_scheme "first").
  bool at_start;
};

struct PreTokenized {
  std::string buffer;
  std::vector<Piece> pieces;

  std::string_view text(const Piece& p) const {
    return std::string_view(buffer).substr(p.begin, p.end - p.begin);
  }
};

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces `pt.pieces` by their cuts (empty pieces are dropped).
  virtual void pre_tokenize(PreTokenized& pt) const = 0;
};

// Builds the pre-tokenizer a tokenizer.json "pre_tokenizer" object
// describes: ByteLevel, Split, Metaspace, Digits, Punctuation, Whitespace,
// WhitespaceSplit, Sequence. A ByteLevel step must come last (it marks the
// tokenizer as byte-level); `*byte_level` says whether there is one.
std::unique_ptr<PreTokenizer> pre_tokenizer_from_json(const Json& spec, const JsonPath& at,
                                                      bool* byte_level);

// Cuts `piece` at `matches` (offsets relative to the piece, sorted, non
// overlapping) the way NormalizedString::split does for `behavior`; with
// `invert`, the text between matches is what counts as matched.
void split_piece(const Piece& piece, const std::vector<MatchSpan>& matches, bool invert,
                 SplitBehavior behavior, std::vector<Piece>& out);

}  // namespace llmbatch::tokenizer
