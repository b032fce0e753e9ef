#include "io/key_suggestion.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace llmbatch {
namespace {

// Distances worked out by hand (each edit listed).
TEST(KeySuggestionTest, EditDistanceCountsEachEdit) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("seed", "seed"), 0u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);   // k->s, e->i, +g
  EXPECT_EQ(edit_distance("max_num_seq", "max_num_seqs"), 1u);  // +s
  EXPECT_EQ(edit_distance("tmeperature", "temperature"), 1u);   // swap "me"
  EXPECT_EQ(edit_distance("ab", "ba"), 1u);
  EXPECT_EQ(edit_distance("ca", "abc"), 3u);  // OSA: no edit of a swapped pair
  EXPECT_EQ(edit_distance("top_k", "top_p"), 1u);
}

TEST(KeySuggestionTest, EditDistanceIsSymmetric) {
  const std::vector<std::string> words = {"", "a", "block_size", "blocksize", "size_block",
                                          "temperature", "tempreature"};
  for (const auto& a : words) {
    for (const auto& b : words) EXPECT_EQ(edit_distance(a, b), edit_distance(b, a)) << a << " " << b;
  }
}

TEST(KeySuggestionTest, ClosestMatchWithinAThirdOfTheWord) {
  const std::vector<std::string> keys = {"max_num_seqs", "max_num_batched_tokens", "block_size",
                                         "threads"};
  EXPECT_EQ(closest_match("max_num_seq", keys), "max_num_seqs");
  EXPECT_EQ(closest_match("blok_size", keys), "block_size");
  EXPECT_EQ(closest_match("thread", keys), "threads");
  EXPECT_EQ(closest_match("flux_capacitor", keys), std::nullopt);
  EXPECT_EQ(closest_match("", keys), std::nullopt);
  // "abc" allows one edit: "abd" is one away, "xyz" three.
  const std::vector<std::string> short_keys = {"xyz", "abd"};
  EXPECT_EQ(closest_match("abc", short_keys), "abd");
  EXPECT_EQ(closest_match("qqq", short_keys), std::nullopt);
  // Under three letters only an exact match counts.
  const std::vector<std::string> one_letter = {"n", "ab"};
  EXPECT_EQ(closest_match("x", one_letter), std::nullopt);
  EXPECT_EQ(closest_match("n", one_letter), "n");
  EXPECT_EQ(closest_match("ac", one_letter), std::nullopt);
}

TEST(KeySuggestionTest, TiesGoToTheEarlierCandidate) {
  const std::vector<std::string> keys = {"top_p", "top_k"};
  EXPECT_EQ(closest_match("top_x", keys), "top_p");
  const std::vector<std::string> reversed = {"top_k", "top_p"};
  EXPECT_EQ(closest_match("top_x", reversed), "top_k");
}

}  // namespace
}  // namespace llmbatch
