// Normalizers, pre-tokenizers and decoders one at a time, built from the
// same JSON configs as the Rust library's were for the expected outputs.
#include <gtest/gtest.h>

#include "fixtures.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/decoder.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pre_tokenizer.h"

namespace llmbatch::tokenizer {
namespace {

using testing::load_expected;

const Json& components() {
  static const Json all = load_expected("components.json");
  return all;
}

TEST(NormalizerTest, MatchesReference) {
  ASSERT_FALSE(components()["normalizers"].empty());
  for (const auto& group : components()["normalizers"]) {
    const auto n = normalizer_from_json(group["config"], {"test", "normalizer"});
    for (const auto& c : group["cases"]) {
      std::string text = c["input"];
      n->normalize(text);
      EXPECT_EQ(text, c["output"].get<std::string>())
          << group["config"].dump() << " on " << c["input"];
    }
  }
}

TEST(PreTokenizerTest, MatchesReference) {
  ASSERT_FALSE(components()["pre_tokenizers"].empty());
  for (const auto& group : components()["pre_tokenizers"]) {
    bool byte_level = false;
    const auto p = pre_tokenizer_from_json(group["config"], {"test", "pre_tokenizer"}, &byte_level);
    for (const auto& c : group["cases"]) {
      PreTokenized pt;
      pt.buffer = c["input"];
      if (!pt.buffer.empty()) pt.pieces.push_back({0, pt.buffer.size(), true});
      p->pre_tokenize(pt);
      std::vector<std::string> pieces;
      for (const Piece& piece : pt.pieces) {
        // The reference shows byte-level pieces in GPT-2's characters.
        const std::string_view text = pt.text(piece);
        pieces.push_back(byte_level ? byte_level_encode(text) : std::string(text));
      }
      EXPECT_EQ(pieces, c["pieces"].get<std::vector<std::string>>())
          << group["config"].dump() << " on " << c["input"];
    }
  }
}

TEST(DecoderTest, MatchesReference) {
  ASSERT_FALSE(components()["decoders"].empty());
  for (const auto& group : components()["decoders"]) {
    const auto d = decoder_from_json(group["config"], {"test", "decoder"});
    for (const auto& c : group["cases"]) {
      auto tokens = c["tokens"].get<std::vector<std::string>>();
      d->decode_chain(tokens);
      std::string text;
      for (const auto& t : tokens) text += t;
      EXPECT_EQ(text, c["output"].get<std::string>())
          << group["config"].dump() << " on " << c["tokens"].dump();
    }
  }
}

}  // namespace
}  // namespace llmbatch::tokenizer
