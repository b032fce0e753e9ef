#include "tokenizer/unicode.h"

#include <gtest/gtest.h>

namespace llmbatch::tokenizer {
namespace {

TEST(UnicodeTest, WhitespaceIsTheWhiteSpaceProperty) {
  for (char32_t c : {U'\t', U'\n', U'\v', U'\f', U'\r', U' ', U'\u0085', U'\u00A0', U'\u1680',
                     U'\u2000', U'\u200A', U'\u2028', U'\u2029', U'\u202F', U'\u205F',
                     U'\u3000'}) {
    EXPECT_TRUE(unicode_is_whitespace(c)) << static_cast<uint32_t>(c);
  }
  for (char32_t c : {U'a', U'\u180E', U'\u200B', U'\uFEFF', U'\u2060'}) {
    EXPECT_FALSE(unicode_is_whitespace(c)) << static_cast<uint32_t>(c);
  }
}

TEST(UnicodeTest, CharacterClasses) {
  EXPECT_TRUE(unicode_is_numeric(U'7'));
  EXPECT_TRUE(unicode_is_numeric(U'\u0663'));  // Arabic-Indic three (Nd)
  EXPECT_TRUE(unicode_is_numeric(U'\u00BD'));  // ½ (No)
  EXPECT_FALSE(unicode_is_numeric(U'x'));
  EXPECT_TRUE(unicode_is_punctuation(U'!'));
  EXPECT_TRUE(unicode_is_punctuation(U'$'));       // ASCII punctuation, though Sc
  EXPECT_TRUE(unicode_is_punctuation(U'\u00BF'));  // ¿
  EXPECT_FALSE(unicode_is_punctuation(U'\u20AC'));  // € is a symbol
  EXPECT_TRUE(unicode_is_word_char(U'_'));
  EXPECT_TRUE(unicode_is_word_char(U'\u0301'));  // combining mark
  EXPECT_TRUE(unicode_is_word_char(U'\u200D'));  // join control
  EXPECT_FALSE(unicode_is_word_char(U'-'));
}

TEST(UnicodeTest, NormalizationForms) {
  EXPECT_EQ(unicode_normalize("cafe\xCC\x81", UnicodeForm::kNfc), "caf\xC3\xA9");
  EXPECT_EQ(unicode_normalize("caf\xC3\xA9", UnicodeForm::kNfd), "cafe\xCC\x81");
  EXPECT_EQ(unicode_normalize("\xEF\xAC\x81", UnicodeForm::kNfkc), "fi");  // ﬁ ligature
  EXPECT_EQ(unicode_normalize("\xEF\xAC\x81", UnicodeForm::kNfc), "\xEF\xAC\x81");
  EXPECT_EQ(unicode_normalize("\xE2\x84\xAB", UnicodeForm::kNfkd), "A\xCC\x8A");  // Å sign
}

TEST(UnicodeTest, LowercaseIsPerCharacter) {
  EXPECT_EQ(unicode_lowercase("HeLLo"), "hello");
  EXPECT_EQ(unicode_lowercase("\xC4\xB0"), "i\xCC\x87");  // İ -> i + combining dot
  // Σ at the end of a word stays σ: no final-sigma context.
  EXPECT_EQ(unicode_lowercase("\xCE\xA3\xCE\xA3"), "\xCF\x83\xCF\x83");
}

}  // namespace
}  // namespace llmbatch::tokenizer
