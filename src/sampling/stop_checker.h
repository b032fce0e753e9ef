// When a generated sequence ends, and its text after stop-string handling.
//
// Rules, checked in this order for each new token:
//   EOS (unless ignore_eos) -> kEos; a stop_token_ids token -> kStopToken;
//   a stop string completed by the new text -> kStopString; max_tokens
//   reached -> kLength. Before min_tokens tokens, only kLength.
// The text of an EOS or stop token that ends the sequence is not appended.
// A stop string may span any number of tokens. When several complete, the
// one that completes first wins (as if the text arrived byte by byte; at the
// same byte, the longer one), so the result does not depend on how the text
// was split into tokens. The text is cut before it, or after it with
// include_stop_str; the text kept before a cut never holds a whole stop string.
// Each add() searches only the region a new match can touch: the new text
// plus the longest stop string's length - 1 bytes before it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kv/kv_types.h"
#include "sampling/sampling_params.h"

namespace llmbatch {

enum class StopReason { kNone, kEos, kStopToken, kStopString, kLength };

// "", "eos", "stop_token", "stop", "length".
std::string_view stop_reason_name(StopReason reason);

// One per generated sequence.
class StopChecker {
 public:
  StopChecker(const SamplingParams& params, std::vector<TokenId> eos_ids);

  // Feeds the token just generated and the text the incremental detokenizer
  // produced for it (may be empty, may complete a multi-byte char). Returns
  // why the sequence ends now, or kNone. Calling it after a stop is a bug.
  StopReason add(TokenId token, std::string_view token_text);

  const std::string& text() const { return text_; }  // generated text so far, after the cut
  int64_t num_tokens() const { return num_tokens_; }
  StopReason reason() const { return reason_; }      // kNone while running

 private:
  // Cuts text_ at the first stop string that ends after byte `old_size`;
  // returns whether one did.
  bool cut_at_stop_string(size_t old_size);

  int64_t max_tokens_;
  int64_t min_tokens_;
  bool ignore_eos_;
  bool include_stop_str_;
  std::vector<TokenId> eos_ids_;
  std::vector<TokenId> stop_token_ids_;
  std::vector<std::string> stop_;
  std::string text_;
  int64_t num_tokens_ = 0;
  StopReason reason_ = StopReason::kNone;
};

}  // namespace llmbatch
