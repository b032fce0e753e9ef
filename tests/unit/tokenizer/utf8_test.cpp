#include "tokenizer/utf8.h"

#include <gtest/gtest.h>

#include "fixtures.h"

namespace llmbatch::tokenizer {
namespace {

// The reference's reading of ill-formed bytes is Python's
// bytes.decode("utf-8", errors="replace"), stored next to the bytes.
TEST(Utf8Test, SanitizeMatchesPythonReplace) {
  const auto expected = testing::load_expected("gpt2.json");
  size_t checked = 0;
  for (const auto& c : expected["cases"]) {
    if (!c.contains("text_hex")) continue;
    const std::string bytes = testing::from_hex(c["text_hex"]);
    // (One case, EF BF BF = U+FFFF, is valid: a noncharacter passes as is.)
    EXPECT_EQ(utf8_sanitize(bytes), c["text"].get<std::string>()) << c["text_hex"];
    ++checked;
  }
  EXPECT_GE(checked, 15u);
}

TEST(Utf8Test, ValidTextIsUnchanged) {
  const std::string text = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";  // a é € 😀
  EXPECT_TRUE(utf8_is_valid(text));
  EXPECT_EQ(utf8_sanitize(text), text);
  size_t pos = 0;
  EXPECT_EQ(utf8_next(text, pos), U'a');
  EXPECT_EQ(utf8_next(text, pos), U'\u00E9');
  EXPECT_EQ(utf8_next(text, pos), U'\u20AC');
  EXPECT_EQ(utf8_next(text, pos), U'\U0001F600');
  EXPECT_EQ(pos, text.size());
}

TEST(Utf8Test, AppendEncodesEveryLength) {
  std::string out;
  for (char32_t c : {U'\x24', U'\u00A2', U'\u20AC', U'\U00010348'}) utf8_append(out, c);
  EXPECT_EQ(out, "\x24\xC2\xA2\xE2\x82\xAC\xF0\x90\x8D\x88");
  EXPECT_EQ(utf8_valid_prefix(out + "\xFF" + out), out.size());
}

TEST(Utf8Test, IncompleteTailCountsOnlyBytesThatCanStillComplete) {
  EXPECT_EQ(utf8_incomplete_tail("ab"), 0u);
  EXPECT_EQ(utf8_incomplete_tail("a\xE2\x82"), 2u);
  EXPECT_EQ(utf8_incomplete_tail("a\xF0\x9F\x98"), 3u);
  EXPECT_EQ(utf8_incomplete_tail("a\xC3"), 1u);
  EXPECT_EQ(utf8_incomplete_tail("a\xC0"), 0u);      // never valid
  EXPECT_EQ(utf8_incomplete_tail("a\xED\xA0"), 0u);  // a surrogate, never valid
  EXPECT_EQ(utf8_incomplete_tail("\xE2\x82\xAC"), 0u);
}

}  // namespace
}  // namespace llmbatch::tokenizer
