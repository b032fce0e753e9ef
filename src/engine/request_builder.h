// Turns an input record into an engine request: renders chat messages with
// the model's template, tokenizes, splits context from continuation for
// scoring, applies the record's sampling overrides and the job's truncation
// rule. A record that cannot become a request becomes an error row instead;
// nothing here throws for a bad record.
//
// Tokenization follows Hugging Face: a prompt, a text to score and a context
// get the tokenizer's special tokens (BOS), a rendered chat does not (the
// template writes them), a continuation is encoded on its own without them
// and appended to the context's ids (lm-evaluation-harness splits the same
// way when the context ends at a word boundary).
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <variant>

#include "engine/engine_request.h"
#include "io/job_config.h"
#include "io/record.h"
#include "tokenizer/chat_template_config.h"
#include "tokenizer/tokenizer.h"

namespace llmbatch {

struct RequestBuilderOptions {
  JobMode mode = JobMode::kGenerate;
  SamplingParams sampling;  // the job's; records override it
  int64_t max_model_len = 4096;
  TruncateSide truncate = TruncateSide::kNone;
  std::tm now{};  // what the chat template's strftime_now() sees: fixed per job, so a resume renders the same
};

class RequestBuilder {
 public:
  // `chat` may be empty when the model has no template: message records then
  // become error rows. Both references must outlive the builder.
  RequestBuilder(const tokenizer::Tokenizer& tokenizer, const std::optional<ModelChatTemplate>& chat,
                 RequestBuilderOptions options);

  // The request for `record`, or its error row.
  std::variant<EngineRequest, ResultRow> build(const InputRecord& record) const;

 private:
  EngineRequest build_or_throw(const InputRecord& record) const;
  std::vector<TokenId> encode(const std::string& text, bool special_tokens) const;
  void truncate(EngineRequest& request) const;

  const tokenizer::Tokenizer& tokenizer_;
  const std::optional<ModelChatTemplate>& chat_;
  RequestBuilderOptions options_;
};

}  // namespace llmbatch
