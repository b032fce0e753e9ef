#include "sampling/stop_checker.h"

#include <algorithm>

#include "core/error.h"

namespace llmbatch {
namespace {

bool contains(const std::vector<TokenId>& ids, TokenId token) {
  return std::find(ids.begin(), ids.end(), token) != ids.end();
}

}  // namespace

std::string_view stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::kNone: return "";
    case StopReason::kEos: return "eos";
    case StopReason::kStopToken: return "stop_token";
    case StopReason::kStopString: return "stop";
    case StopReason::kLength: return "length";
  }
  return "";
}

StopChecker::StopChecker(const SamplingParams& params, std::vector<TokenId> eos_ids)
    : max_tokens_(params.max_tokens),
      min_tokens_(params.min_tokens),
      ignore_eos_(params.ignore_eos),
      include_stop_str_(params.include_stop_str),
      eos_ids_(std::move(eos_ids)),
      stop_token_ids_(params.stop_token_ids),
      stop_(params.stop) {}

StopReason StopChecker::add(TokenId token, std::string_view token_text) {
  LLMBATCH_CHECK(reason_ == StopReason::kNone, "token added to a sequence that has stopped");
  ++num_tokens_;
  // vLLM's rule: the stop checks start once the output holds min_tokens
  // tokens (the sampler masks EOS and stop ids before that).
  const bool may_stop = num_tokens_ >= min_tokens_;
  if (may_stop && !ignore_eos_ && contains(eos_ids_, token)) return reason_ = StopReason::kEos;
  if (may_stop && contains(stop_token_ids_, token)) return reason_ = StopReason::kStopToken;
  const size_t old_size = text_.size();
  text_ += token_text;
  if (may_stop && !stop_.empty() && cut_at_stop_string(old_size)) return reason_ = StopReason::kStopString;
  if (num_tokens_ >= max_tokens_) return reason_ = StopReason::kLength;
  return StopReason::kNone;
}

bool StopChecker::cut_at_stop_string(size_t old_size) {
  const std::string_view text = text_;
  size_t best_begin = 0, best_end = std::string::npos;
  for (const std::string& stop : stop_) {
    // A match that ends after old_size starts at old_size - (size - 1) or later.
    const size_t from = old_size >= stop.size() ? old_size - stop.size() + 1 : 0;
    const size_t begin = text.find(stop, from);
    if (begin == std::string::npos) continue;
    const size_t end = begin + stop.size();
    if (end < best_end || (end == best_end && begin < best_begin)) best_begin = begin, best_end = end;
  }
  if (best_end == std::string::npos) return false;
  text_.resize(include_stop_str_ ? best_end : best_begin);
  return true;
}

}  // namespace llmbatch
