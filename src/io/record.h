// What flows between the input readers, the engine and the result writer:
// one input record as a reader yields it, and one result row per (record,
// sample) as the writer stores it. Plain data; the readers, the job runner
// and the HDF5 writer each fill or read their part.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kv/kv_types.h"

namespace llmbatch {

enum class RecordKind {
  kPrompt,        // generate from `prompt` (text)
  kMessages,      // generate from `messages` through the chat template
  kTokens,        // generate or score from pre-tokenized `prompt_ids`
  kScoreText,     // score mode: every token of `prompt`
  kContinuation,  // score mode: log-likelihood of `continuation` after `prompt` (the context)
};

struct InputRecord {
  int64_t index = 0;  // position in the job's whole input, in stable file order
  std::string id;     // custom_id / id, else the index in decimal
  RecordKind kind = RecordKind::kPrompt;
  std::string prompt;        // prompt, text or context
  std::string continuation;  // kContinuation only
  nlohmann::ordered_json messages;  // kMessages: the chat, as given
  std::vector<TokenId> prompt_ids;  // kTokens
  nlohmann::json sampling;          // per-record overrides (an object), or null
  // Non-empty when the record is malformed: it becomes an error row.
  std::string error;
};

enum class RecordStatus { kOk, kError };
enum class FinishReason { kNone, kStop, kLength, kEos };

std::string_view record_status_name(RecordStatus status);  // "ok", "error"
std::string_view finish_reason_name(FinishReason reason);  // "", "stop", "length", "eos"

struct TopLogprob {
  TokenId token = 0;
  float logprob = 0.0f;
};

// One output row: a generated sample, a score, or an error.
struct ResultRow {
  int64_t index = 0;
  int32_t sample = 0;
  std::string id;
  RecordStatus status = RecordStatus::kOk;
  std::string error;
  FinishReason finish_reason = FinishReason::kNone;
  std::vector<TokenId> prompt_ids;
  std::vector<TokenId> output_ids;
  std::string text;  // generated text (stop string handling applied)
  // Generate mode with logprobs: per output token its logprob and top-k.
  std::vector<float> token_logprobs;                 // [output_ids.size()] or empty
  std::vector<std::vector<TopLogprob>> top_logprobs;  // [output_ids.size()] or empty
  // Score mode: logprob of each scored token (prompt[1:] for text, the
  // continuation for context/continuation), their sum, and whether greedy
  // decoding would have produced exactly the scored tokens.
  std::vector<float> prompt_logprobs;
  double sum_logprob = 0.0;
  bool is_greedy = false;
};

}  // namespace llmbatch
