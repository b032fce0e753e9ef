// The Tokenizer API around encode/decode: batches on several threads, the
// vocabulary accessors, tokenizer_config.json, errors for bad ids.
#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "fixtures.h"

namespace llmbatch::tokenizer {
namespace {

TEST(TokenizerTest, BatchEqualsOneByOneOnAllThreads) {
  const Tokenizer tok = Tokenizer::load(testing::tokenizer_fixture("llama3_1"));
  const auto expected = testing::load_expected("llama3_1.json");
  std::vector<std::string> texts;
  for (const auto& c : expected["cases"]) {
    if (c.contains("text") && !c.contains("text_hex")) texts.push_back(c["text"]);
  }
  const EncodeOptions options{.add_special_tokens = true};
  for (size_t threads : {1, 2, 3}) {
    const auto batch = tok.encode_batch(texts, options, threads);
    ASSERT_EQ(batch.size(), texts.size());
    size_t i = 0;
    for (const auto& c : expected["cases"]) {
      if (c.contains("text_hex")) continue;
      EXPECT_EQ(batch[i++], testing::ids_of(c["ids_special"])) << c["text"];
    }
  }
  EXPECT_TRUE(tok.encode_batch(std::vector<std::string>{}).empty());
}

// Figures of the Rust library for the same files: get_vocab_size(True),
// token_to_id, the special flags of added tokens.
TEST(TokenizerTest, VocabularyAccessors) {
  const Tokenizer llama = Tokenizer::load(testing::tokenizer_fixture("llama3_1"));
  EXPECT_EQ(llama.vocab_size(), 128256u);
  EXPECT_EQ(llama.token_to_id("<|begin_of_text|>"), 128000u);
  EXPECT_EQ(llama.token_to_id("\xC4\xA0the"), 279u);  // "Ġthe"
  EXPECT_FALSE(llama.token_to_id("no such token").has_value());
  EXPECT_EQ(llama.id_to_token(128001), "<|end_of_text|>");
  EXPECT_EQ(llama.id_to_token(279), "\xC4\xA0the");
  EXPECT_FALSE(llama.id_to_token(999999).has_value());
  EXPECT_TRUE(llama.is_special(128000));
  EXPECT_FALSE(llama.is_special(279));

  const Tokenizer mistral = Tokenizer::load(testing::tokenizer_fixture("mistral"));
  EXPECT_EQ(mistral.vocab_size(), 32000u);
  EXPECT_EQ(mistral.token_to_id("<0x0A>"), 13u);
}

TEST(TokenizerTest, ConfigTokensFromTokenizerConfig) {
  const Tokenizer llama = Tokenizer::load(testing::tokenizer_fixture("llama3_1"));
  EXPECT_EQ(llama.bos_token(), "<|begin_of_text|>");
  EXPECT_EQ(llama.eos_token(), "<|eot_id|>");
  EXPECT_TRUE(llama.config().contains("chat_template"));
  // A bare tokenizer.json has no config.
  const Tokenizer file = Tokenizer::load(testing::tokenizer_fixture("gpt2/tokenizer.json"));
  EXPECT_FALSE(file.bos_token().has_value());
}

TEST(TokenizerTest, DecodeRejectsUnknownIds) {
  const Tokenizer gpt2 = Tokenizer::load(testing::tokenizer_fixture("gpt2"));
  const std::vector<uint32_t> ids{15496, 50257};
  EXPECT_THROW(gpt2.decode(ids), InputError);
}

}  // namespace
}  // namespace llmbatch::tokenizer
