#include "sampling/stop_checker.h"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"

namespace llmbatch {
namespace {

constexpr TokenId kEos = 2;
constexpr TokenId kText = 100;  // any ordinary token

SamplingParams with_stops(std::vector<std::string> stop, bool include = false) {
  SamplingParams p;
  p.max_tokens = 1000;
  p.stop = std::move(stop);
  p.include_stop_str = include;
  return p;
}

// Feeds pieces as ordinary tokens until one stops; returns the reason.
StopReason feed(StopChecker& checker, const std::vector<std::string>& pieces) {
  for (const std::string& piece : pieces) {
    const StopReason r = checker.add(kText, piece);
    if (r != StopReason::kNone) return r;
  }
  return StopReason::kNone;
}

TEST(StopCheckerTest, EosStopsWithoutItsText) {
  SamplingParams p;
  StopChecker checker(p, {kEos, 7});
  EXPECT_EQ(checker.add(kText, "Hi"), StopReason::kNone);
  EXPECT_EQ(checker.add(7, "</s>"), StopReason::kEos);  // any of the EOS ids
  EXPECT_EQ(checker.text(), "Hi");
  EXPECT_EQ(checker.num_tokens(), 2);
  EXPECT_EQ(checker.reason(), StopReason::kEos);
  EXPECT_THROW(checker.add(kText, "x"), InternalError);
}

TEST(StopCheckerTest, IgnoreEosMakesEosAnOrdinaryToken) {
  SamplingParams p;
  p.ignore_eos = true;
  p.max_tokens = 3;
  StopChecker checker(p, {kEos});
  EXPECT_EQ(checker.add(kEos, "<e>"), StopReason::kNone);
  EXPECT_EQ(checker.add(kEos, ""), StopReason::kNone);
  EXPECT_EQ(checker.add(kEos, "!"), StopReason::kLength);
  EXPECT_EQ(checker.text(), "<e>!");
}

TEST(StopCheckerTest, StopTokenIdsStopEvenWithIgnoreEos) {
  SamplingParams p;
  p.stop_token_ids = {42};
  p.ignore_eos = true;
  StopChecker checker(p, {kEos});
  EXPECT_EQ(checker.add(kText, "a"), StopReason::kNone);
  EXPECT_EQ(checker.add(42, "<|eot|>"), StopReason::kStopToken);
  EXPECT_EQ(checker.text(), "a");
}

TEST(StopCheckerTest, MaxTokensGivesLength) {
  SamplingParams p;
  p.max_tokens = 2;
  StopChecker checker(p, {kEos});
  EXPECT_EQ(checker.add(kText, "a"), StopReason::kNone);
  EXPECT_EQ(checker.add(kText, "b"), StopReason::kLength);
  EXPECT_EQ(checker.num_tokens(), 2);
  EXPECT_EQ(checker.text(), "ab");
}

TEST(StopCheckerTest, StopStringOnTheLastTokenWinsOverLength) {
  SamplingParams p = with_stops({"b"});
  p.max_tokens = 2;
  StopChecker checker(p, {kEos});
  EXPECT_EQ(feed(checker, {"a", "bc"}), StopReason::kStopString);
  EXPECT_EQ(checker.text(), "a");
  EXPECT_EQ(checker.reason(), StopReason::kStopString);
}

TEST(StopCheckerTest, StopStringAcrossTokenBoundaries) {
  StopChecker cut(with_stops({"o w"}), {kEos});
  EXPECT_EQ(feed(cut, {"Hel", "lo", " ", "wor", "ld"}), StopReason::kStopString);
  EXPECT_EQ(cut.text(), "Hell");
  EXPECT_EQ(cut.num_tokens(), 4);

  StopChecker kept(with_stops({"o w"}, /*include=*/true), {kEos});
  EXPECT_EQ(feed(kept, {"Hel", "lo", " ", "wor", "ld"}), StopReason::kStopString);
  EXPECT_EQ(kept.text(), "Hello w");
}

TEST(StopCheckerTest, MultiByteStopStringSplitAcrossTokens) {
  StopChecker checker(with_stops({"日本"}), {kEos});
  EXPECT_EQ(feed(checker, {"こんにちは", "日", "", "本語"}), StopReason::kStopString);
  EXPECT_EQ(checker.text(), "こんにちは");
}

TEST(StopCheckerTest, TheFirstStopStringToCompleteWins) {
  // "abc" starts first but "b" completes first.
  StopChecker first(with_stops({"abc", "b"}), {kEos});
  EXPECT_EQ(feed(first, {"xabcd"}), StopReason::kStopString);
  EXPECT_EQ(first.text(), "xa");
  // Completing at the same byte: the longer one.
  StopChecker same_end(with_stops({"bc", "abc"}, true), {kEos});
  EXPECT_EQ(feed(same_end, {"xabcd"}), StopReason::kStopString);
  EXPECT_EQ(same_end.text(), "xabc");
  StopChecker cut_same_end(with_stops({"bc", "abc"}), {kEos});
  EXPECT_EQ(feed(cut_same_end, {"xab", "cd"}), StopReason::kStopString);
  EXPECT_EQ(cut_same_end.text(), "x");
}

TEST(StopCheckerTest, MinTokensAllowsOnlyLength) {
  SamplingParams p = with_stops({"stop"});
  p.min_tokens = 3;
  p.stop_token_ids = {42};
  StopChecker checker(p, {kEos});
  EXPECT_EQ(checker.add(kEos, "<e>"), StopReason::kNone);
  EXPECT_EQ(checker.add(42, "|"), StopReason::kNone);
  // A stop string completed before min_tokens never stops the sequence...
  EXPECT_EQ(checker.add(kText, "stop"), StopReason::kStopString);  // the third token may stop
  EXPECT_EQ(checker.text(), "<e>|");

  SamplingParams q = with_stops({"stop"});
  q.min_tokens = 2;
  StopChecker early(q, {kEos});
  EXPECT_EQ(early.add(kText, "stop"), StopReason::kNone);
  EXPECT_EQ(early.add(kText, "x"), StopReason::kNone);  // ...not even later
  EXPECT_EQ(early.add(kEos, ""), StopReason::kEos);
  EXPECT_EQ(early.text(), "stopx");

  SamplingParams r;
  r.min_tokens = 2;
  r.max_tokens = 2;
  StopChecker length(r, {kEos});
  EXPECT_EQ(length.add(kText, "a"), StopReason::kNone);
  EXPECT_EQ(length.add(kText, "b"), StopReason::kLength);
}

// The text arriving one byte at a time, checked after each byte against
// every stop string; the longest of those ending at the first byte that
// completes any.
struct Expected {
  bool stopped = false;
  std::string text;
  size_t end = 0;  // bytes consumed when it stopped
};
Expected reference_stop(const std::string& full, const std::vector<std::string>& stops, bool include) {
  for (size_t end = 1; end <= full.size(); ++end) {
    size_t longest = 0;
    for (const std::string& s : stops) {
      if (end >= s.size() && full.compare(end - s.size(), s.size(), s) == 0) longest = std::max(longest, s.size());
    }
    if (longest > 0) return {true, full.substr(0, include ? end : end - longest), end};
  }
  return {false, full, full.size()};
}

TEST(StopCheckerTest, AnySplitGivesTheByteByByteResult) {
  std::mt19937 rng(17);
  const auto random_string = [&](size_t min_len, size_t max_len) {
    std::string s(std::uniform_int_distribution<size_t>(min_len, max_len)(rng), 'a');
    for (char& c : s) c = "abc"[rng() % 3];
    return s;
  };
  int stopped = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    const std::string full = random_string(0, 24);
    std::vector<std::string> stops;
    for (size_t i = 0, count = 1 + rng() % 3; i < count; ++i) stops.push_back(random_string(2, 5));
    const bool include = rng() % 2;
    // Random pieces, empty ones included.
    std::vector<std::string> pieces;
    std::vector<size_t> piece_end;
    for (size_t at = 0; at < full.size() || pieces.empty();) {
      const size_t len = std::min(full.size() - at, size_t(rng() % 5));
      pieces.push_back(full.substr(at, len));
      at += len;
      piece_end.push_back(at);
    }
    const Expected want = reference_stop(full, stops, include);
    StopChecker checker(with_stops(stops, include), {kEos});
    const StopReason got = feed(checker, pieces);
    ASSERT_EQ(got == StopReason::kStopString, want.stopped) << full;
    EXPECT_EQ(checker.text(), want.text) << full;
    if (want.stopped) {
      // It stops on the first token whose text reaches the completing byte.
      const size_t token = std::lower_bound(piece_end.begin(), piece_end.end(), want.end) - piece_end.begin();
      EXPECT_EQ(checker.num_tokens(), static_cast<int64_t>(token + 1)) << full;
      ++stopped;
    }
  }
  EXPECT_GT(stopped, 500);  // the cases exercise stopping, not only running on
}

TEST(StopCheckerTest, ReasonNames) {
  EXPECT_EQ(stop_reason_name(StopReason::kNone), "");
  EXPECT_EQ(stop_reason_name(StopReason::kEos), "eos");
  EXPECT_EQ(stop_reason_name(StopReason::kStopToken), "stop_token");
  EXPECT_EQ(stop_reason_name(StopReason::kStopString), "stop");
  EXPECT_EQ(stop_reason_name(StopReason::kLength), "length");
}

}  // namespace
}  // namespace llmbatch
