// Streaming after a prompt: the text streamed for the generated ids is what
// a full decode of prompt + generation adds to the prompt's text, including
// the SentencePiece space in front of the first generated word.
#include "tokenizer/incremental_detokenizer.h"

#include <gtest/gtest.h>

#include "fixtures.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace llmbatch::tokenizer {
namespace {

class StreamAfterPromptTest : public ::testing::TestWithParam<std::string> {};

TEST_P(StreamAfterPromptTest, StreamsWhatFullDecodeAdds) {
  const Tokenizer tok = Tokenizer::load(testing::tokenizer_fixture(GetParam()));
  const auto expected = testing::load_expected(GetParam() + ".json");
  size_t checked = 0;
  for (const auto& c : expected["cases"]) {
    const auto ids = testing::ids_of(c["ids_special"]);
    if (ids.size() < 4) continue;
    const size_t split = ids.size() / 2;
    const std::span<const uint32_t> prompt(ids.data(), split);
    const std::string full = c["decode"];  // the reference's decode of all ids
    const std::string prompt_text = tok.decode(prompt);
    if (!full.starts_with(prompt_text)) continue;  // the prompt ends inside a character
    IncrementalDetokenizer detok(tok, false, prompt);
    std::string streamed;
    for (size_t i = split; i < ids.size(); ++i) {
      const std::string piece = detok.add(ids[i]);
      EXPECT_TRUE(utf8_is_valid(piece));
      streamed += piece;
    }
    streamed += detok.flush();
    EXPECT_EQ(streamed, full.substr(prompt_text.size())) << c["text"];
    ++checked;
  }
  EXPECT_GE(checked, 100u);
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, StreamAfterPromptTest, ::testing::Values("llama3_1", "mistral"));

// A character split over byte-fallback tokens is held back until whole.
TEST(IncrementalDetokenizerTest, HoldsBackPartialCharacters) {
  const Tokenizer tok = Tokenizer::load(testing::tokenizer_fixture("mistral"));
  const uint32_t e4 = *tok.token_to_id("<0xE4>"), bd = *tok.token_to_id("<0xBD>"),
                 a0 = *tok.token_to_id("<0xA0>");
  IncrementalDetokenizer detok(tok, true);
  EXPECT_EQ(detok.add(e4), "");
  EXPECT_EQ(detok.add(bd), "");
  EXPECT_EQ(detok.add(a0), "\xE4\xBD\xA0");  // 你
  EXPECT_EQ(detok.add(e4), "");
  // An unfinished character ends as U+FFFD (the decoder's rule for bytes
  // that are not UTF-8), still valid UTF-8.
  const std::string rest = detok.flush();
  EXPECT_TRUE(rest.ends_with("\xEF\xBF\xBD"));
  EXPECT_TRUE(utf8_is_valid(rest));
}

}  // namespace
}  // namespace llmbatch::tokenizer
