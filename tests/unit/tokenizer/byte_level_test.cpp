#include "tokenizer/byte_level.h"

#include <set>

#include <gtest/gtest.h>

#include "tokenizer/tokenizer.h"
#include "fixtures.h"

namespace llmbatch::tokenizer {
namespace {

TEST(ByteLevelTest, KnownCharacters) {
  EXPECT_EQ(byte_level_char(' '), U'\u0120');   // Ġ
  EXPECT_EQ(byte_level_char('\n'), U'\u010A');  // Ċ
  EXPECT_EQ(byte_level_char('a'), U'a');
  EXPECT_EQ(byte_level_byte(U'\u0120'), ' ');
  EXPECT_FALSE(byte_level_byte(U'\u2581').has_value());
}

// GPT-2's vocabulary holds each of the 256 byte characters as a token: an
// independent check of the whole table, and that it is a bijection.
TEST(ByteLevelTest, EveryByteIsAGpt2Token) {
  const Tokenizer tok = Tokenizer::load(testing::tokenizer_fixture("gpt2"));
  std::set<char32_t> seen;
  for (int b = 0; b < 256; ++b) {
    const std::string one(1, static_cast<char>(b));
    const std::string spelled = byte_level_encode(one);
    EXPECT_TRUE(tok.token_to_id(spelled).has_value()) << b;
    EXPECT_EQ(byte_level_decode(spelled), one);
    seen.insert(byte_level_char(static_cast<unsigned char>(b)));
  }
  EXPECT_EQ(seen.size(), 256u);
  EXPECT_FALSE(byte_level_decode("a\xE2\x96\x81").has_value());
}

}  // namespace
}  // namespace llmbatch::tokenizer
