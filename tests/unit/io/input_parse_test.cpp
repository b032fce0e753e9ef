#include "io/input_parse.h"

#include <gtest/gtest.h>

namespace llmbatch {
namespace {

using nlohmann::json;

const std::string kFile = "data.jsonl";

InputRecord parse(std::string_view text, InputFormat format, InputMode mode = InputMode::kGenerate,
                  const std::string& field = "prompt") {
  InputOptions options;
  options.format = format;
  options.mode = mode;
  options.field = field;
  const InputLine line{.text = text, .length = text.size()};
  return parse_input_line(line, LineOrigin{.file = kFile, .line = 12, .index = 41}, options);
}

InputRecord jsonl(std::string_view text, InputMode mode = InputMode::kGenerate, const std::string& field = "prompt") {
  return parse(text, InputFormat::kJsonl, mode, field);
}

InputRecord batch(std::string_view text) { return parse(text, InputFormat::kOpenAiBatch); }

// The error names the file and line, then says what is wrong.
void expect_error(const InputRecord& r, const std::string& what) {
  EXPECT_TRUE(r.error.starts_with(kFile + ":12: ")) << r.error;
  EXPECT_NE(r.error.find(what), std::string::npos) << "'" << r.error << "' should mention '" << what << "'";
  EXPECT_EQ(r.index, 41);
}

TEST(ParseJsonl, PromptWithIdAndSampling) {
  const auto r = jsonl(R"({"id": "q-7", "prompt": "Hello", "sampling": {"temperature": 0.5, "stop": ["\n"]}})");
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.index, 41);
  EXPECT_EQ(r.id, "q-7");
  EXPECT_EQ(r.kind, RecordKind::kPrompt);
  EXPECT_EQ(r.prompt, "Hello");
  EXPECT_EQ(r.sampling, json::parse(R"({"temperature": 0.5, "stop": ["\n"]})"));
}

TEST(ParseJsonl, IdDefaultsToIndexAndIntegerIdsAreDecimal) {
  EXPECT_EQ(jsonl(R"({"prompt": "x"})").id, "41");
  EXPECT_EQ(jsonl(R"({"prompt": "x", "id": 9000000000})").id, "9000000000");
  EXPECT_EQ(jsonl(R"({"prompt": "x", "id": null})").id, "41");
  EXPECT_TRUE(jsonl(R"({"prompt": "x"})").sampling.is_null());
}

TEST(ParseJsonl, ConfiguredFieldName) {
  const auto r = jsonl(R"({"question": "Why?", "prompt": "ignored"})", InputMode::kGenerate, "question");
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.prompt, "Why?");
  expect_error(jsonl(R"({"prompt": "x"})", InputMode::kGenerate, "question"), "missing 'question'");
}

TEST(ParseJsonl, MessagesKeepTheirKeyOrder) {
  const auto r = jsonl(R"({"messages": [{"role": "system", "content": "Be brief"}, {"role": "user", "content": "Hi"}]})");
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.kind, RecordKind::kMessages);
  EXPECT_EQ(r.messages.dump(), R"([{"role":"system","content":"Be brief"},{"role":"user","content":"Hi"}])");
}

TEST(ParseJsonl, ScoreText) {
  const auto r = jsonl(R"({"text": "The sky is blue."})", InputMode::kScore);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.kind, RecordKind::kScoreText);
  EXPECT_EQ(r.prompt, "The sky is blue.");
  EXPECT_EQ(jsonl(R"({"prompt": "p"})", InputMode::kScore).prompt, "p");  // the configured field works too
}

TEST(ParseJsonl, ScoreContinuation) {
  const auto r = jsonl(R"({"id": 3, "context": "2+2=", "continuation": "4"})", InputMode::kScore);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.kind, RecordKind::kContinuation);
  EXPECT_EQ(r.prompt, "2+2=");
  EXPECT_EQ(r.continuation, "4");
  EXPECT_EQ(r.id, "3");
  EXPECT_EQ(jsonl(R"({"context": "", "continuation": "4"})", InputMode::kScore).error, "");
}

TEST(ParseJsonl, EveryMalformedRecordIsAnErrorRow) {
  expect_error(jsonl(R"({"prompt": "x")"), "invalid JSON");
  expect_error(jsonl(R"(not json)"), "invalid JSON");
  expect_error(jsonl("\"\xff\xfe\""), "invalid JSON");  // bad UTF-8 inside a string
  expect_error(jsonl(R"(["prompt"])"), "expected a JSON object, got array");
  expect_error(jsonl(R"({"id": "a"})"), "missing 'prompt' (or 'messages')");
  expect_error(jsonl(R"({"prompt": 5})"), "'prompt' must be a string, got number");
  expect_error(jsonl(R"({"prompt": ""})"), "'prompt' is empty");
  expect_error(jsonl(R"({"prompt": "x", "messages": [{"role": "user", "content": "y"}]})"), "keep one");
  expect_error(jsonl(R"({"messages": []})"), "non-empty list");
  expect_error(jsonl(R"({"messages": "hi"})"), "got string");
  expect_error(jsonl(R"({"messages": [{"content": "no role"}]})"), "'messages[0]'");
  expect_error(jsonl(R"({"prompt": "x", "sampling": [1]})"), "'sampling' must be an object, got array");
  expect_error(jsonl(R"({"prompt": "x", "id": 1.5})"), "'id' must be");
  expect_error(jsonl(R"({"prompt": "x", "id": ""})"), "'id' must be");
  expect_error(jsonl("   "), "empty line");
  expect_error(jsonl(""), "empty line");
  expect_error(jsonl(R"({"context": "a"})", InputMode::kScore), "missing 'continuation'");
  expect_error(jsonl(R"({"context": "a", "continuation": ""})", InputMode::kScore), "'continuation' is empty");
  expect_error(jsonl(R"({"text": "a", "context": "b", "continuation": "c"})", InputMode::kScore), "keep one");
  expect_error(jsonl(R"({"messages": [{"role": "user"}]})", InputMode::kScore), "missing 'prompt' or 'text'");
}

TEST(ParseJsonl, ErrorRowsKeepWhatCouldBeRead) {
  const auto r = jsonl(R"({"id": "keep", "prompt": "fine", "sampling": 3})");
  EXPECT_EQ(r.id, "keep");
  EXPECT_EQ(r.prompt, "fine");
  EXPECT_FALSE(r.error.empty());
}

TEST(ParseJsonl, DeepNestingIsRefusedNotACrash) {
  const std::string deep = "{\"prompt\": \"x\", \"sampling\": " + std::string(200'000, '[') + std::string(200'000, ']') + "}";
  expect_error(jsonl(deep), "nested deeper");
  const std::string ok = "{\"prompt\": \"x\", \"meta\": " + std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_EQ(jsonl(ok).error, "");
}

TEST(ParseJsonl, TooLongLineIsAnErrorRow) {
  InputOptions options;
  options.max_record_bytes = 100;
  const InputLine line{.length = 5000, .too_long = true};
  const auto r = parse_input_line(line, LineOrigin{.file = kFile, .line = 12, .index = 41}, options);
  expect_error(r, "5000 bytes is longer than input.max_record_bytes (100)");
  EXPECT_EQ(r.id, "41");
}

TEST(ParseOpenAiBatch, ChatRequestWithSamplingKeysMapped) {
  const auto r = batch(R"({"custom_id": "req-1", "method": "POST", "url": "/v1/chat/completions",
    "body": {"model": "gpt-x", "messages": [{"role": "user", "content": "Hi"}],
             "max_completion_tokens": 64, "max_tokens": 5, "temperature": 0.7, "top_p": 0.9, "top_k": 40,
             "min_p": 0.05, "presence_penalty": 0.1, "frequency_penalty": 0.2, "repetition_penalty": 1.1,
             "stop": ["END"], "seed": 123, "n": 2, "logit_bias": {"50256": -100}, "logprobs": true,
             "top_logprobs": 3, "ignore_eos": true, "min_tokens": 4, "user": "u", "stream": false}})");
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.id, "req-1");
  EXPECT_EQ(r.kind, RecordKind::kMessages);
  EXPECT_EQ(r.messages, nlohmann::ordered_json::parse(R"([{"role": "user", "content": "Hi"}])"));
  EXPECT_EQ(r.sampling, json::parse(R"({"max_tokens": 64, "temperature": 0.7, "top_p": 0.9, "top_k": 40,
      "min_p": 0.05, "presence_penalty": 0.1, "frequency_penalty": 0.2, "repetition_penalty": 1.1,
      "stop": ["END"], "seed": 123, "n": 2, "logit_bias": {"50256": -100}, "logprobs": 3,
      "ignore_eos": true, "min_tokens": 4})"));
}

TEST(ParseOpenAiBatch, CompletionRequestAndLogprobForms) {
  const auto r = batch(R"({"custom_id": "c", "body": {"prompt": "Once", "max_tokens": 8, "logprobs": 2}})");
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.kind, RecordKind::kPrompt);
  EXPECT_EQ(r.prompt, "Once");
  EXPECT_EQ(r.sampling, json::parse(R"({"max_tokens": 8, "logprobs": 2})"));
  EXPECT_EQ(batch(R"({"body": {"prompt": "a", "logprobs": true}})").sampling, json::parse(R"({"logprobs": 0})"));
  EXPECT_TRUE(batch(R"({"body": {"prompt": "a", "logprobs": false, "temperature": null}})").sampling.is_null());
  EXPECT_EQ(batch(R"({"body": {"prompt": "a"}})").id, "41");
}

TEST(ParseOpenAiBatch, MalformedRequestsAreErrorRows) {
  expect_error(batch(R"({"custom_id": "x"})"), "missing 'body'");
  expect_error(batch(R"({"custom_id": "x", "body": "hi"})"), "'body' must be an object, got string");
  expect_error(batch(R"({"body": {"model": "m"}})"), "missing 'body.prompt' (or 'body.messages')");
  expect_error(batch(R"({"body": {"prompt": ["a", "b"]}})"), "'body.prompt' must be a string, got array");
  expect_error(batch(R"({"body": {"prompt": "a", "top_logprobs": 2}})"), "needs 'body.logprobs': true");
  expect_error(batch(R"({"body": {"prompt": "a", "logprobs": "yes"}})"), "'body.logprobs' must be");
  expect_error(batch(R"({"body": {"prompt": "a", "logprobs": true, "top_logprobs": "3"}})"), "'body.top_logprobs'");
  expect_error(batch(R"({"custom_id": [1], "body": {"prompt": "a"}})"), "'custom_id' must be");
}

TEST(ParseText, LineIsThePrompt) {
  const auto r = parse("  keep  spaces  ", InputFormat::kText);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.kind, RecordKind::kPrompt);
  EXPECT_EQ(r.prompt, "  keep  spaces  ");
  EXPECT_EQ(r.id, "41");
  EXPECT_EQ(parse("{\"prompt\": 1}", InputFormat::kText).prompt, "{\"prompt\": 1}");  // not parsed as JSON
  EXPECT_EQ(parse("score me", InputFormat::kText, InputMode::kScore).kind, RecordKind::kScoreText);
}

TEST(ParseText, ByteOrderMarkOfTheFirstLineIsDropped) {
  InputOptions options;
  options.format = InputFormat::kText;
  const std::string text = "\xEF\xBB\xBFhello";
  const InputLine line{.text = text, .length = text.size()};
  EXPECT_EQ(parse_input_line(line, LineOrigin{.file = kFile, .line = 1, .index = 0}, options).prompt, "hello");
  EXPECT_EQ(parse_input_line(line, LineOrigin{.file = kFile, .line = 2, .index = 1}, options).prompt, text);
}

TEST(ParseText, EmptyAndInvalidUtf8LinesAreErrorRows) {
  expect_error(parse("", InputFormat::kText), "empty line");
  expect_error(parse("ab\xff", InputFormat::kText), "not valid UTF-8 (byte 3");
  expect_error(parse("\xc3", InputFormat::kText), "not valid UTF-8 (byte 1");        // cut short
  expect_error(parse("\xed\xa0\x80", InputFormat::kText), "not valid UTF-8");        // surrogate
  expect_error(parse("\xc0\xaf", InputFormat::kText), "not valid UTF-8");            // overlong
  expect_error(parse("\xf4\x90\x80\x80", InputFormat::kText), "not valid UTF-8");    // > U+10FFFF
  EXPECT_EQ(parse("h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", InputFormat::kText).error, "");  // é € 😀
}

}  // namespace
}  // namespace llmbatch
