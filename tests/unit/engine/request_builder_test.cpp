#include "engine/request_builder.h"

#include <gtest/gtest.h>

#include <fstream>

namespace llmbatch {
namespace {

const tokenizer::Tokenizer& gpt2() {
  static const auto tok =
      tokenizer::Tokenizer::load(std::string(LLMBATCH_FIXTURES_DIR) + "/tokenizers/gpt2/tokenizer.json");
  return tok;
}

std::vector<TokenId> ids(const std::string& text, bool special = true) {
  const auto v = gpt2().encode(text, {.add_special_tokens = special});
  return {v.begin(), v.end()};
}

InputRecord prompt_record(const std::string& text) {
  InputRecord r;
  r.index = 4;
  r.id = "x";
  r.prompt = text;
  return r;
}

ResultRow error_of(const std::variant<EngineRequest, ResultRow>& built) {
  EXPECT_TRUE(std::holds_alternative<ResultRow>(built));
  return std::get<ResultRow>(built);
}

TEST(RequestBuilder, PromptIsTokenizedWithTheRecordsSamplingOverrides) {
  const std::optional<ModelChatTemplate> none;
  SamplingParams job;
  job.temperature = 0.7;
  job.max_tokens = 9;
  const RequestBuilder builder(gpt2(), none, {.sampling = job});
  auto record = prompt_record("Hello world, how are you?");
  record.sampling = {{"max_tokens", 3}};
  const auto built = builder.build(record);
  ASSERT_TRUE(std::holds_alternative<EngineRequest>(built));
  const auto& r = std::get<EngineRequest>(built);
  EXPECT_EQ(r.key, 4u);
  EXPECT_EQ(r.id, "x");
  EXPECT_EQ(r.mode, RequestMode::kGenerate);
  EXPECT_EQ(r.prompt, ids("Hello world, how are you?"));
  EXPECT_EQ(r.sampling.max_tokens, 3);
  EXPECT_DOUBLE_EQ(r.sampling.temperature, 0.7);
}

TEST(RequestBuilder, BadRecordsBecomeErrorRows) {
  const std::optional<ModelChatTemplate> none;
  const RequestBuilder builder(gpt2(), none, {});
  auto malformed = prompt_record("x");
  malformed.error = "in.jsonl:3: invalid JSON";
  EXPECT_EQ(error_of(builder.build(malformed)).error, "in.jsonl:3: invalid JSON");
  EXPECT_EQ(error_of(builder.build(malformed)).status, RecordStatus::kError);

  auto bad_sampling = prompt_record("hi");
  bad_sampling.sampling = {{"top_p", 2.0}};
  EXPECT_NE(error_of(builder.build(bad_sampling)).error.find("top_p"), std::string::npos);

  InputRecord chat;
  chat.kind = RecordKind::kMessages;
  chat.messages = nlohmann::ordered_json::parse(R"([{"role":"user","content":"hi"}])");
  EXPECT_NE(error_of(builder.build(chat)).error.find("no chat template"), std::string::npos);
}

TEST(RequestBuilder, ChatMessagesGoThroughTheTemplateWithoutExtraSpecialTokens) {
  const std::string path = std::string(LLMBATCH_FIXTURES_DIR) + "/chat_templates/templates/smollm2.jinja";
  std::ifstream in(path);
  const std::string source((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::optional<ModelChatTemplate> chat(ModelChatTemplate{ChatTemplate::parse(source, path), std::nullopt, {}});
  const RequestBuilder builder(gpt2(), chat, {});
  InputRecord record;
  record.kind = RecordKind::kMessages;
  record.messages = nlohmann::ordered_json::parse(R"([{"role":"user","content":"Hi there"}])");
  const auto built = builder.build(record);
  ASSERT_TRUE(std::holds_alternative<EngineRequest>(built));
  ChatRenderOptions render;
  render.add_generation_prompt = true;
  EXPECT_EQ(std::get<EngineRequest>(built).prompt, ids(apply_chat_template(*chat, record.messages, render), false));
}

TEST(RequestBuilder, ScoreRecordsSplitContextAndContinuation) {
  const std::optional<ModelChatTemplate> none;
  const RequestBuilder builder(gpt2(), none, {.mode = JobMode::kScore});
  InputRecord record;
  record.kind = RecordKind::kContinuation;
  record.prompt = "The capital of France is";
  record.continuation = " Paris";
  const auto r = std::get<EngineRequest>(builder.build(record));
  EXPECT_EQ(r.mode, RequestMode::kScore);
  const auto context = ids("The capital of France is");
  EXPECT_EQ(r.score_from, static_cast<int64_t>(context.size()));
  auto expected = context;
  const auto cont = ids(" Paris", false);
  expected.insert(expected.end(), cont.begin(), cont.end());
  EXPECT_EQ(r.prompt, expected);

  InputRecord tokens;
  tokens.kind = RecordKind::kTokens;
  tokens.prompt_ids = {5, 6, 7};
  EXPECT_EQ(std::get<EngineRequest>(builder.build(tokens)).prompt, tokens.prompt_ids);
  record.continuation = "";
  EXPECT_NE(error_of(builder.build(record)).error.find("empty continuation"), std::string::npos);
}

TEST(RequestBuilder, TruncatesTooLongPromptsAsConfigured) {
  const std::optional<ModelChatTemplate> none;
  InputRecord record;
  record.kind = RecordKind::kTokens;
  for (TokenId t = 0; t < 20; ++t) record.prompt_ids.push_back(t);

  const RequestBuilder keep(gpt2(), none, {.max_model_len = 10});
  EXPECT_EQ(std::get<EngineRequest>(keep.build(record)).prompt.size(), 20u);  // the engine rejects it
  const RequestBuilder left(gpt2(), none, {.max_model_len = 10, .truncate = TruncateSide::kLeft});
  const auto l = std::get<EngineRequest>(left.build(record)).prompt;
  EXPECT_EQ(l, std::vector<TokenId>({11, 12, 13, 14, 15, 16, 17, 18, 19}));  // room for one generated token
  const RequestBuilder right(gpt2(), none, {.max_model_len = 10, .truncate = TruncateSide::kRight});
  EXPECT_EQ(std::get<EngineRequest>(right.build(record)).prompt, std::vector<TokenId>({0, 1, 2, 3, 4, 5, 6, 7, 8}));

  // Scoring: left truncation keeps the scored tail, right truncation would drop it.
  InputRecord scored;
  scored.kind = RecordKind::kContinuation;
  scored.prompt = "one two three four five six seven eight nine ten eleven twelve";
  scored.continuation = " end";
  const RequestBuilder score_left(gpt2(), none, {.mode = JobMode::kScore, .max_model_len = 6, .truncate = TruncateSide::kLeft});
  const auto s = std::get<EngineRequest>(score_left.build(scored));
  EXPECT_EQ(s.prompt.size(), 6u);
  EXPECT_EQ(s.score_from, 5);
  const RequestBuilder score_right(gpt2(), none, {.mode = JobMode::kScore, .max_model_len = 6, .truncate = TruncateSide::kRight});
  EXPECT_NE(error_of(score_right.build(scored)).error.find("right"), std::string::npos);
}

}  // namespace
}  // namespace llmbatch
