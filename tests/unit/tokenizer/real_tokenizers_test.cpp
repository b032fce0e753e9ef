// The four real tokenizers (GPT-2, Llama-3.1, Qwen2.5, Mistral) against the
// ids and texts of the Rust `tokenizers` library, case by case.
#include <map>

#include <gtest/gtest.h>

#include "tokenizer/incremental_detokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"
#include "fixtures.h"

namespace llmbatch::tokenizer {
namespace {

using testing::from_hex;
using testing::ids_of;
using testing::load_expected;
using testing::tokenizer_fixture;

const Tokenizer& cached_tokenizer(const std::string& name) {
  static std::map<std::string, Tokenizer> loaded;
  auto it = loaded.find(name);
  if (it == loaded.end()) it = loaded.emplace(name, Tokenizer::load(tokenizer_fixture(name))).first;
  return it->second;
}

std::string case_text(const nlohmann::json& c) {
  return c.contains("text_hex") ? from_hex(c["text_hex"]) : c["text"].get<std::string>();
}

class RealTokenizerTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RealTokenizerTest, EncodeMatchesReference) {
  const Tokenizer& tok = cached_tokenizer(GetParam());
  const auto expected = load_expected(GetParam() + ".json");
  ASSERT_GE(expected["cases"].size(), 300u);
  size_t failures = 0;
  for (const auto& c : expected["cases"]) {
    const std::string text = case_text(c);
    const auto ids = ids_of(c["ids"]);
    const auto no_parse = c.contains("ids_no_parse") ? ids_of(c["ids_no_parse"]) : ids;
    const bool ok = tok.encode(text) == ids &&
                    tok.encode(text, {.add_special_tokens = true}) == ids_of(c["ids_special"]) &&
                    tok.encode(text, {.parse_special = false}) == no_parse;
    if (!ok) {
      ADD_FAILURE() << "ids differ for text: " << c["text"];
      if (++failures >= 20) FAIL() << "stopping after 20 failing cases";
    }
  }
}

TEST_P(RealTokenizerTest, DecodeMatchesReference) {
  const Tokenizer& tok = cached_tokenizer(GetParam());
  const auto expected = load_expected(GetParam() + ".json");
  for (const auto& c : expected["cases"]) {
    const auto ids = ids_of(c["ids_special"]);
    EXPECT_EQ(tok.decode(ids), c["decode"].get<std::string>()) << "text: " << c["text"];
    EXPECT_EQ(tok.decode(ids, true), c["decode_skip"].get<std::string>()) << "text: " << c["text"];
  }
  for (const auto& d : expected["decodes"]) {
    const auto ids = ids_of(d["ids"]);
    EXPECT_EQ(tok.decode(ids), d["decode"].get<std::string>()) << "ids: " << d["ids"];
    EXPECT_EQ(tok.decode(ids, true), d["decode_skip"].get<std::string>()) << "ids: " << d["ids"];
  }
}

// Streaming the ids of every case gives the reference's full decode, in
// pieces that are each valid UTF-8.
TEST_P(RealTokenizerTest, IncrementalDetokenizerMatchesFullDecode) {
  const Tokenizer& tok = cached_tokenizer(GetParam());
  const auto expected = load_expected(GetParam() + ".json");
  for (const auto& c : expected["cases"]) {
    for (bool skip : {false, true}) {
      IncrementalDetokenizer detok(tok, skip);
      std::string streamed;
      for (uint32_t id : ids_of(c["ids_special"])) {
        const std::string piece = detok.add(id);
        EXPECT_TRUE(utf8_is_valid(piece));
        streamed += piece;
      }
      streamed += detok.flush();
      EXPECT_EQ(streamed, c[skip ? "decode_skip" : "decode"].get<std::string>())
          << "text: " << c["text"];
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, RealTokenizerTest,
                         ::testing::Values("gpt2", "llama3_1", "qwen2_5", "mistral"));

}  // namespace
}  // namespace llmbatch::tokenizer
