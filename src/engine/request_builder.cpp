#include "engine/request_builder.h"

#include "core/error.h"

namespace llmbatch {

RequestBuilder::RequestBuilder(const tokenizer::Tokenizer& tokenizer, const std::optional<ModelChatTemplate>& chat,
                               RequestBuilderOptions options)
    : tokenizer_(tokenizer), chat_(chat), options_(std::move(options)) {}

std::vector<TokenId> RequestBuilder::encode(const std::string& text, bool special_tokens) const {
  const auto ids = tokenizer_.encode(text, {.add_special_tokens = special_tokens});
  return {ids.begin(), ids.end()};
}

std::variant<EngineRequest, ResultRow> RequestBuilder::build(const InputRecord& record) const {
  ResultRow error;
  error.index = record.index;
  error.id = record.id;
  error.status = RecordStatus::kError;
  if (!record.error.empty()) {
    error.error = record.error;
    return error;
  }
  try {
    return build_or_throw(record);
  } catch (const Error& e) {
    error.error = e.what();
    return error;
  }
}

EngineRequest RequestBuilder::build_or_throw(const InputRecord& record) const {
  EngineRequest request;
  request.key = static_cast<uint64_t>(record.index);
  request.id = record.id;
  request.mode = options_.mode == JobMode::kScore ? RequestMode::kScore : RequestMode::kGenerate;
  switch (record.kind) {
    case RecordKind::kPrompt:
    case RecordKind::kScoreText:
      request.prompt = encode(record.prompt, true);
      break;
    case RecordKind::kMessages: {
      if (!chat_) throw InputError("the record has chat messages but the model has no chat template");
      ChatRenderOptions render;
      render.add_generation_prompt = options_.mode == JobMode::kGenerate;
      render.now = options_.now;
      request.prompt = encode(apply_chat_template(*chat_, record.messages, render), false);
      break;
    }
    case RecordKind::kTokens:
      request.prompt = record.prompt_ids;
      break;
    case RecordKind::kContinuation: {
      request.prompt = encode(record.prompt, true);
      request.score_from = static_cast<int64_t>(request.prompt.size());
      const auto continuation = encode(record.continuation, false);
      if (continuation.empty()) throw InputError("empty continuation");
      request.prompt.insert(request.prompt.end(), continuation.begin(), continuation.end());
      break;
    }
  }
  if (request.mode == RequestMode::kGenerate) {
    request.sampling = apply_sampling_overrides(options_.sampling, record.sampling);
  }
  truncate(request);
  return request;
}

void RequestBuilder::truncate(EngineRequest& request) const {
  // Generation needs room for at least one token; scoring needs the prompt.
  const int64_t limit = options_.max_model_len - (request.mode == RequestMode::kGenerate ? 1 : 0);
  const auto len = static_cast<int64_t>(request.prompt.size());
  if (len <= limit || options_.truncate == TruncateSide::kNone) return;  // the engine rejects it with the lengths
  const int64_t cut = len - limit;
  if (request.mode == RequestMode::kScore && request.score_from - 1 < cut && options_.truncate == TruncateSide::kLeft) {
    // Cutting into the scored tokens would change what is scored.
    throw InputError("prompt of " + std::to_string(len) + " tokens: truncating " + std::to_string(cut) +
                     " from the left would cut into the scored tokens");
  }
  if (options_.truncate == TruncateSide::kLeft) {
    request.prompt.erase(request.prompt.begin(), request.prompt.begin() + cut);
    request.score_from -= cut;
  } else {
    if (request.mode == RequestMode::kScore) {
      throw InputError("prompt of " + std::to_string(len) + " tokens: truncating from the right would drop scored tokens");
    }
    request.prompt.resize(static_cast<size_t>(limit));
  }
}

}  // namespace llmbatch
