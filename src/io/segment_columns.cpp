#include "io/segment_columns.h"

#include <algorithm>

#include "core/error.h"

namespace llmbatch {
namespace {

template <typename T>
void extend(std::vector<T>& dst, const std::vector<T>& src) {
  dst.insert(dst.end(), src.begin(), src.end());
}

// Appends src's offsets (which start at 0) after dst's last one.
void extend_offsets(std::vector<int64_t>& dst, const std::vector<int64_t>& src) {
  const int64_t base = dst.back();
  for (size_t i = 1; i < src.size(); ++i) dst.push_back(base + src[i]);
}

template <typename T>
std::vector<T> slice(const std::vector<T>& values, const std::vector<int64_t>& offsets, int64_t r) {
  return std::vector<T>(values.begin() + offsets[r], values.begin() + offsets[r + 1]);
}

RecordStatus parse_status(const std::string& name) {
  for (const RecordStatus s : {RecordStatus::kOk, RecordStatus::kError}) {
    if (record_status_name(s) == name) return s;
  }
  throw IoError("unknown record status '" + name + "'", {.key = "records/status"});
}

FinishReason parse_finish_reason(const std::string& name) {
  for (const FinishReason f : {FinishReason::kNone, FinishReason::kStop, FinishReason::kLength, FinishReason::kEos}) {
    if (finish_reason_name(f) == name) return f;
  }
  throw IoError("unknown finish reason '" + name + "'", {.key = "records/finish_reason"});
}

void check_csr(const std::vector<int64_t>& offsets, size_t entries, size_t values, const std::string& file,
               const std::string& name) {
  const bool ok = offsets.size() == entries + 1 && offsets.front() == 0 &&
                  std::is_sorted(offsets.begin(), offsets.end()) &&
                  offsets.back() == static_cast<int64_t>(values);
  if (!ok) {
    throw IoError("offsets do not match their values (" + std::to_string(offsets.size()) + " offsets, " +
                      std::to_string(values) + " values)",
                  {.file = file, .key = name}, "the file is corrupt; rerun the units it holds");
  }
}

}  // namespace

void ResultColumns::append(const ResultRow& row) {
  const size_t n_out = row.output_ids.size();
  LLMBATCH_CHECK(row.token_logprobs.empty() || row.token_logprobs.size() == n_out,
                 "token_logprobs has one entry per output token or none");
  LLMBATCH_CHECK(row.top_logprobs.empty() || row.top_logprobs.size() == row.token_logprobs.size(),
                 "top_logprobs has one entry per logprob token or none");
  index.push_back(row.index);
  sample.push_back(row.sample);
  id.push_back(row.id);
  status.emplace_back(record_status_name(row.status));
  error.push_back(row.error);
  finish_reason.emplace_back(finish_reason_name(row.finish_reason));
  num_prompt_tokens.push_back(static_cast<int32_t>(row.prompt_ids.size()));
  num_output_tokens.push_back(static_cast<int32_t>(n_out));
  if (has_tokens) {
    extend(prompt_ids, row.prompt_ids);
    prompt_offsets.push_back(static_cast<int64_t>(prompt_ids.size()));
    extend(output_ids, row.output_ids);
    output_offsets.push_back(static_cast<int64_t>(output_ids.size()));
  }
  if (has_text) text.push_back(row.text);
  for (size_t t = 0; t < row.token_logprobs.size(); ++t) {
    token_logprob.push_back(row.token_logprobs[t]);
    if (!row.top_logprobs.empty()) {
      for (const TopLogprob& top : row.top_logprobs[t]) {
        topk_ids.push_back(top.token);
        topk_values.push_back(top.logprob);
      }
    }
    topk_offsets.push_back(static_cast<int64_t>(topk_ids.size()));
  }
  logprob_offsets.push_back(static_cast<int64_t>(token_logprob.size()));
  extend(prompt_logprobs, row.prompt_logprobs);
  prompt_logprob_offsets.push_back(static_cast<int64_t>(prompt_logprobs.size()));
  sum_logprob.push_back(row.sum_logprob);
  is_greedy.push_back(row.is_greedy ? 1 : 0);
}

void ResultColumns::append(const ResultColumns& other) {
  LLMBATCH_CHECK(other.has_tokens == has_tokens && other.has_text == has_text,
                 "columns appended to each other store the same groups");
  extend(index, other.index);
  extend(sample, other.sample);
  extend(id, other.id);
  extend(status, other.status);
  extend(error, other.error);
  extend(finish_reason, other.finish_reason);
  extend(num_prompt_tokens, other.num_prompt_tokens);
  extend(num_output_tokens, other.num_output_tokens);
  if (has_tokens) {
    extend_offsets(prompt_offsets, other.prompt_offsets);
    extend(prompt_ids, other.prompt_ids);
    extend_offsets(output_offsets, other.output_offsets);
    extend(output_ids, other.output_ids);
  }
  if (has_text) extend(text, other.text);
  extend_offsets(logprob_offsets, other.logprob_offsets);
  extend(token_logprob, other.token_logprob);
  extend_offsets(topk_offsets, other.topk_offsets);
  extend(topk_ids, other.topk_ids);
  extend(topk_values, other.topk_values);
  extend_offsets(prompt_logprob_offsets, other.prompt_logprob_offsets);
  extend(prompt_logprobs, other.prompt_logprobs);
  extend(sum_logprob, other.sum_logprob);
  extend(is_greedy, other.is_greedy);
}

ResultRow ResultColumns::row(int64_t r) const {
  LLMBATCH_CHECK(r >= 0 && r < rows(), "row index in range");
  ResultRow out;
  out.index = index[r];
  out.sample = sample[r];
  out.id = id[r];
  out.status = parse_status(status[r]);
  out.error = error[r];
  out.finish_reason = parse_finish_reason(finish_reason[r]);
  if (has_tokens) {
    out.prompt_ids = slice(prompt_ids, prompt_offsets, r);
    out.output_ids = slice(output_ids, output_offsets, r);
  }
  if (has_text) out.text = text[r];
  out.token_logprobs = slice(token_logprob, logprob_offsets, r);
  bool any_top = false;
  for (int64_t t = logprob_offsets[r]; t < logprob_offsets[r + 1]; ++t) {
    any_top = any_top || topk_offsets[t + 1] > topk_offsets[t];
  }
  if (any_top) {
    for (int64_t t = logprob_offsets[r]; t < logprob_offsets[r + 1]; ++t) {
      auto& top = out.top_logprobs.emplace_back();
      for (int64_t k = topk_offsets[t]; k < topk_offsets[t + 1]; ++k) top.push_back({topk_ids[k], topk_values[k]});
    }
  }
  out.prompt_logprobs = slice(prompt_logprobs, prompt_logprob_offsets, r);
  out.sum_logprob = sum_logprob[r];
  out.is_greedy = is_greedy[r] != 0;
  return out;
}

void ResultColumns::validate(const std::string& file) const {
  const size_t n = index.size();
  for (const size_t size : {sample.size(), id.size(), status.size(), error.size(), finish_reason.size(),
                            num_prompt_tokens.size(), num_output_tokens.size(), sum_logprob.size(),
                            is_greedy.size(), has_text ? text.size() : n}) {
    if (size != n) {
      throw IoError("per-row datasets differ in length", {.file = file, .key = "records"},
                    "the file is corrupt; rerun the units it holds");
    }
  }
  if (has_tokens) {
    check_csr(prompt_offsets, n, prompt_ids.size(), file, "tokens/prompt_offsets");
    check_csr(output_offsets, n, output_ids.size(), file, "tokens/output_offsets");
  }
  check_csr(logprob_offsets, n, token_logprob.size(), file, "logprobs/offsets");
  check_csr(topk_offsets, token_logprob.size(), topk_ids.size(), file, "logprobs/topk_offsets");
  check_csr(topk_offsets, token_logprob.size(), topk_values.size(), file, "logprobs/topk_offsets");
  check_csr(prompt_logprob_offsets, n, prompt_logprobs.size(), file, "scores/prompt_logprob_offsets");
  for (size_t r = 0; r < n; ++r) {
    const int64_t lp = logprob_offsets[r + 1] - logprob_offsets[r];
    bool ok = lp == 0 || lp == num_output_tokens[r];
    if (has_tokens) {
      ok = ok && prompt_offsets[r + 1] - prompt_offsets[r] == num_prompt_tokens[r] &&
           output_offsets[r + 1] - output_offsets[r] == num_output_tokens[r];
    }
    if (!ok) {
      throw IoError("row " + std::to_string(r) + " has token counts that disagree with its arrays",
                    {.file = file, .key = "records/num_output_tokens"}, "the file is corrupt; rerun the units it holds");
    }
  }
}

}  // namespace llmbatch
