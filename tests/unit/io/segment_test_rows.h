// Result rows of every kind the writer must store, and a field-by-field
// comparison, shared by the io output tests.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "io/record.h"

namespace llmbatch::testing {

enum class RowKind {
  kGenerateLogprobs,    // top-2 alternatives per token
  kGenerateNoTop,       // token logprobs, no alternatives
  kGeneratePlain,       // no logprobs
  kScoreText,           // prompt_logprobs over prompt[1:]
  kContinuation,        // prompt_logprobs over the continuation
  kError,               // status error, no tokens
  kEmptyOutput,         // ok, zero output tokens
  kNonAscii,            // UTF-8 text and id
};
inline constexpr int kNumRowKinds = 8;

// A row of `kind` whose contents depend on (index, sample).
inline ResultRow make_row(int64_t index, int32_t sample, RowKind kind) {
  ResultRow row;
  row.index = index;
  row.sample = sample;
  row.id = "rec-" + std::to_string(index);
  const TokenId base = static_cast<TokenId>(index * 7 + sample);
  row.prompt_ids = {base, base + 1, base + 2};
  const auto generate = [&](int n) {
    for (int i = 0; i < n; ++i) row.output_ids.push_back(base + 100 + i);
    row.text = "out " + std::to_string(index) + "/" + std::to_string(sample);
    row.finish_reason = n % 2 ? FinishReason::kStop : FinishReason::kLength;
  };
  switch (kind) {
    case RowKind::kGenerateLogprobs:
      generate(3 + sample);
      for (size_t i = 0; i < row.output_ids.size(); ++i) {
        row.token_logprobs.push_back(-0.25f * static_cast<float>(i + 1));
        row.top_logprobs.push_back({{row.output_ids[i], row.token_logprobs[i]}, {base + 900, -3.5f}});
      }
      break;
    case RowKind::kGenerateNoTop:
      generate(2);
      row.token_logprobs = {-0.1f, -1.0e-7f};
      row.finish_reason = FinishReason::kEos;
      break;
    case RowKind::kGeneratePlain:
      generate(4);
      break;
    case RowKind::kScoreText:
      row.prompt_logprobs = {-1.5f, -0.125f};
      row.sum_logprob = -1.625;
      row.is_greedy = false;
      break;
    case RowKind::kContinuation:
      row.prompt_ids.push_back(base + 3);
      row.prompt_logprobs = {-0.5f};
      row.sum_logprob = -0.5;
      row.is_greedy = true;
      break;
    case RowKind::kError:
      row.prompt_ids.clear();
      row.status = RecordStatus::kError;
      row.error = "prompt is longer than max_model_len (5000 > 4096)";
      break;
    case RowKind::kEmptyOutput:
      row.finish_reason = FinishReason::kEos;
      break;
    case RowKind::kNonAscii:
      generate(1);
      row.id = "réc-" + std::to_string(index) + "-日本";
      row.text = "héllo wörld — 世界 🙂 \"quoted\"\n";
      break;
  }
  return row;
}

// Rows of record `index`: its kind is index % kNumRowKinds; generate kinds
// get `samples` rows (n > 1), the others one.
inline std::vector<ResultRow> make_record_rows(int64_t index, int samples = 2) {
  const auto kind = static_cast<RowKind>(index % kNumRowKinds);
  const bool generate = kind == RowKind::kGenerateLogprobs || kind == RowKind::kGenerateNoTop ||
                        kind == RowKind::kGeneratePlain || kind == RowKind::kNonAscii;
  std::vector<ResultRow> rows;
  for (int s = 0; s < (generate ? samples : 1); ++s) rows.push_back(make_row(index, s, kind));
  return rows;
}

inline void expect_row_eq(const ResultRow& a, const ResultRow& b) {
  SCOPED_TRACE("row (" + std::to_string(b.index) + ", " + std::to_string(b.sample) + ")");
  EXPECT_EQ(a.index, b.index);
  EXPECT_EQ(a.sample, b.sample);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.error, b.error);
  EXPECT_EQ(a.finish_reason, b.finish_reason);
  EXPECT_EQ(a.prompt_ids, b.prompt_ids);
  EXPECT_EQ(a.output_ids, b.output_ids);
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.token_logprobs, b.token_logprobs);
  ASSERT_EQ(a.top_logprobs.size(), b.top_logprobs.size());
  for (size_t t = 0; t < a.top_logprobs.size(); ++t) {
    ASSERT_EQ(a.top_logprobs[t].size(), b.top_logprobs[t].size());
    for (size_t k = 0; k < a.top_logprobs[t].size(); ++k) {
      EXPECT_EQ(a.top_logprobs[t][k].token, b.top_logprobs[t][k].token);
      EXPECT_EQ(a.top_logprobs[t][k].logprob, b.top_logprobs[t][k].logprob);
    }
  }
  EXPECT_EQ(a.prompt_logprobs, b.prompt_logprobs);
  EXPECT_EQ(a.sum_logprob, b.sum_logprob);
  EXPECT_EQ(a.is_greedy, b.is_greedy);
}

// A fresh directory under the system temp dir, removed with the object.
class TempDir {
 public:
  explicit TempDir(const std::string& tag)
      : path_(std::filesystem::temp_directory_path() /
              ("llmbatch_" + tag + "_" + std::to_string(::getpid()) + "_" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string str() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace llmbatch::testing
