// Result rows in the columnar layout of a segment or results.h5 (DESIGN.md
// "Formats", docs/output-format.md). Per-row fields are one entry per row;
// variable-length fields are CSR: an int64 offsets array of rows + 1 entries
// starting at 0, and the concatenated values.
//
//   /logprobs/offsets is per row: the row's tokens in /logprobs/token are
//   [offsets[r], offsets[r+1]), aligned with its output tokens when it asked
//   for logprobs, empty otherwise. /logprobs/topk_offsets is per such token.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/record.h"

namespace llmbatch {

struct ResultColumns {
  // Which optional groups exist (output.token_ids, output.text).
  bool has_tokens = true;
  bool has_text = true;

  // /records  [rows]
  std::vector<int64_t> index;
  std::vector<int32_t> sample;
  std::vector<std::string> id, status, error, finish_reason;
  std::vector<int32_t> num_prompt_tokens, num_output_tokens;
  // /tokens  (has_tokens)
  std::vector<int64_t> prompt_offsets{0};  // [rows + 1]
  std::vector<TokenId> prompt_ids;
  std::vector<int64_t> output_offsets{0};  // [rows + 1]
  std::vector<TokenId> output_ids;
  // /text  (has_text)
  std::vector<std::string> text;  // [rows]
  // /logprobs
  std::vector<int64_t> logprob_offsets{0};  // [rows + 1]
  std::vector<float> token_logprob;         // [logprob tokens]
  std::vector<int64_t> topk_offsets{0};     // [logprob tokens + 1]
  std::vector<TokenId> topk_ids;
  std::vector<float> topk_values;
  // /scores
  std::vector<int64_t> prompt_logprob_offsets{0};  // [rows + 1]
  std::vector<float> prompt_logprobs;
  std::vector<double> sum_logprob;  // [rows]
  std::vector<uint8_t> is_greedy;   // [rows], 0 or 1

  int64_t rows() const { return static_cast<int64_t>(index.size()); }

  // Appends one row. Throws InternalError when the row breaks the invariants
  // of ResultRow (logprobs neither empty nor one per output token).
  void append(const ResultRow& row);
  // Appends all rows of `other` (same has_tokens/has_text), rebasing offsets.
  void append(const ResultColumns& other);
  // Row r back as a ResultRow. Without has_tokens its id vectors are empty,
  // without has_text its text is; top_logprobs is empty when no token of the
  // row has alternatives. Throws IoError for a status or finish reason name
  // this version does not know (a corrupt or foreign file).
  ResultRow row(int64_t r) const;

  // Throws IoError (naming `file`) unless every array has the length its
  // offsets and row count imply and offsets never decrease: a file read
  // from disk is checked before anything indexes into it.
  void validate(const std::string& file) const;
};

}  // namespace llmbatch
