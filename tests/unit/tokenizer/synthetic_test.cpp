// Small trained BPE tokenizers with configurations the real files lack:
// Metaspace pre-tokenizers (prepend_scheme always/first/never), added tokens
// with single_word/lstrip/rstrip/normalized, NFKC+Lowercase and NFD+Strip
// normalizers, unknown tokens with and without fuse_unk, merges as pairs.
#include <gtest/gtest.h>

#include "fixtures.h"
#include "tokenizer/tokenizer.h"

namespace llmbatch::tokenizer {
namespace {

using testing::ids_of;
using testing::load_expected;

TEST(SyntheticTokenizerTest, MatchesReference) {
  const Json variants = load_expected("synthetic.json");
  ASSERT_GE(variants.size(), 5u);
  for (const auto& v : variants) {
    const std::string name = v["name"];
    const Tokenizer tok = Tokenizer::from_json(v["tokenizer"].dump(), name);
    for (const auto& c : v["cases"]) {
      const std::string text = c["text"];
      const auto ids = ids_of(c["ids"]);
      EXPECT_EQ(tok.encode(text), ids) << name << ": " << c["text"];
      EXPECT_EQ(tok.encode(text, {.add_special_tokens = true}), ids_of(c["ids_special"]))
          << name << ": " << c["text"];
      EXPECT_EQ(tok.encode(text, {.parse_special = false}),
                c.contains("ids_no_parse") ? ids_of(c["ids_no_parse"]) : ids)
          << name << ": " << c["text"];
      const auto with_special = ids_of(c["ids_special"]);
      EXPECT_EQ(tok.decode(with_special), c["decode"].get<std::string>()) << name << ": " << text;
      EXPECT_EQ(tok.decode(with_special, true), c["decode_skip"].get<std::string>())
          << name << ": " << text;
    }
  }
}

}  // namespace
}  // namespace llmbatch::tokenizer
