// Broken or unsupported tokenizer.json files: each gives a specific error
// (kind and a message naming the problem and where), never a crash.
#include <gtest/gtest.h>

#include "core/error.h"
#include "fixtures.h"
#include "tokenizer/tokenizer.h"

namespace llmbatch::tokenizer {
namespace {

// A small valid tokenizer.json that each case breaks in one place.
Json base() {
  return Json::parse(R"({
    "version": "1.0", "truncation": null, "padding": null,
    "added_tokens": [{"id": 5, "content": "<s>", "single_word": false, "lstrip": false,
                      "rstrip": false, "normalized": false, "special": true}],
    "normalizer": {"type": "NFC"},
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true,
                      "use_regex": true},
    "post_processor": null,
    "decoder": {"type": "ByteLevel"},
    "model": {"type": "BPE", "dropout": null, "unk_token": null, "fuse_unk": false,
              "byte_fallback": false, "vocab": {"a": 0, "b": 1, "ab": 2, "c": 3, "abc": 4},
              "merges": ["a b", ["ab", "c"]]}
  })");
}

// Expects `json_text` to fail loading with error type E and a message that
// contains `needle`.
template <typename E>
void expect_text_error(const std::string& json_text, const std::string& needle) {
  try {
    Tokenizer::from_json(json_text, "bad.json");
    ADD_FAILURE() << "loaded without error; wanted: " << needle;
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong error type: " << e.what();
  }
}

template <typename E>
void expect_error(const Json& spec, const std::string& needle) {
  expect_text_error<E>(spec.dump(), needle);
}

TEST(MalformedTest, BaseLoadsAndEncodes) {
  const Tokenizer tok = Tokenizer::from_json(base().dump());
  EXPECT_EQ(tok.encode("abc<s>ab"), (std::vector<uint32_t>{4, 5, 2}));
}

TEST(MalformedTest, NotJson) {
  expect_text_error<ModelFormatError>("{\"model\": ", "not valid JSON");
  expect_text_error<ModelFormatError>("", "not valid JSON");
  expect_text_error<ModelFormatError>("{\"model\": {\"dropout\": 1e999}}", "number overflow");
}

TEST(MalformedTest, NotAnObject) {
  expect_text_error<ModelFormatError>("[1, 2]", "must hold a JSON object, not array");
  expect_text_error<ModelFormatError>("\"tokenizer\"", "must hold a JSON object, not string");
}

TEST(MalformedTest, MissingModel) {
  Json j = base();
  j.erase("model");
  expect_error<ModelFormatError>(j, "missing key 'model'");
}

TEST(MalformedTest, UnknownModelType) {
  Json j = base();
  j["model"]["type"] = "Unigram";
  expect_error<UnsupportedError>(j, "model type 'Unigram'");
}

TEST(MalformedTest, UnknownNormalizer) {
  Json j = base();
  j["normalizer"] = {{"type", "Precompiled"}};
  expect_error<UnsupportedError>(j, "normalizer type 'Precompiled'");
}

TEST(MalformedTest, UnknownPreTokenizerInSequence) {
  Json j = base();
  j["pre_tokenizer"] = {{"type", "Sequence"},
                        {"pretokenizers", {{{"type", "Whitespace"}}, {{"type", "BertPreTokenizer"}}}}};
  expect_error<UnsupportedError>(j, "pre_tokenizer.pretokenizers[1].type");
}

TEST(MalformedTest, UnknownDecoder) {
  Json j = base();
  j["decoder"] = {{"type", "WordPiece"}};
  expect_error<UnsupportedError>(j, "decoder type 'WordPiece'");
}

TEST(MalformedTest, UnknownPostProcessor) {
  Json j = base();
  j["post_processor"] = {{"type", "BertProcessing"}};
  expect_error<UnsupportedError>(j, "post-processor type 'BertProcessing'");
}

TEST(MalformedTest, MergeWithMissingToken) {
  Json j = base();
  j["model"]["merges"] = {"a b", "b zz"};
  expect_error<ModelFormatError>(j, "uses token 'zz'");
  j["model"]["merges"] = {"b c"};  // "bc" is not in the vocab
  expect_error<ModelFormatError>(j, "uses token 'bc'");
}

TEST(MalformedTest, MergeOfWrongShape) {
  Json j = base();
  j["model"]["merges"] = {"a b c"};
  expect_error<ModelFormatError>(j, "not two tokens");
  j["model"]["merges"] = Json::array({Json::array({"a"})});
  expect_error<ModelFormatError>(j, "a merge must be");
}

TEST(MalformedTest, BadRegex) {
  Json j = base();
  j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}},
                        {"behavior", "Isolated"}, {"invert", false}};
  expect_error<ModelFormatError>(j, "does not compile");
}

TEST(MalformedTest, BadSplitBehavior) {
  Json j = base();
  j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"String", " "}}},
                        {"behavior", "Sideways"}, {"invert", false}};
  expect_error<ModelFormatError>(j, "unknown split behavior 'Sideways'");
}

TEST(MalformedTest, VocabNotAnObject) {
  Json j = base();
  j["model"]["vocab"] = Json::array({"a", "b"});
  expect_error<ModelFormatError>(j, "'vocab' must be an object");
}

TEST(MalformedTest, NegativeId) {
  Json j = base();
  j["model"]["vocab"]["a"] = -1;
  expect_error<ModelFormatError>(j, "the id of token 'a'");
}

TEST(MalformedTest, UnkTokenNotInVocab) {
  Json j = base();
  j["model"]["unk_token"] = "<unk>";
  expect_error<ModelFormatError>(j, "unk_token '<unk>' is not in the vocab");
}

TEST(MalformedTest, DropoutIsRefused) {
  Json j = base();
  j["model"]["dropout"] = 0.1;
  expect_error<UnsupportedError>(j, "dropout");
}

TEST(MalformedTest, AddedTokenWithoutId) {
  Json j = base();
  j["added_tokens"][0].erase("id");
  expect_error<ModelFormatError>(j, "added_tokens[0].id");
}

TEST(MalformedTest, WrongFieldType) {
  Json j = base();
  j["pre_tokenizer"]["add_prefix_space"] = "yes";
  expect_error<ModelFormatError>(j, "'add_prefix_space' must be true or false");
}

TEST(MalformedTest, TemplateNamesUnknownSpecialToken) {
  Json j = base();
  j["post_processor"] = Json::parse(R"({"type": "TemplateProcessing",
      "single": [{"SpecialToken": {"id": "<bos>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
      "pair": [], "special_tokens": {}})");
  expect_error<ModelFormatError>(j, "missing key '<bos>'");
}

TEST(MalformedTest, MetaspaceReplacementNotOneCharacter) {
  Json j = base();
  j["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "ab"}, {"prepend_scheme", "always"}};
  expect_error<ModelFormatError>(j, "'replacement' must be a single character");
}

TEST(MalformedTest, ByteLevelNotLast) {
  Json j = base();
  j["pre_tokenizer"] = {{"type", "Sequence"},
                        {"pretokenizers", {{{"type", "ByteLevel"}}, {{"type", "Digits"}}}}};
  expect_error<UnsupportedError>(j, "after ByteLevel");
}

TEST(MalformedTest, MissingFile) {
  EXPECT_THROW(Tokenizer::load("/nonexistent/dir"), IoError);
}

}  // namespace
}  // namespace llmbatch::tokenizer
