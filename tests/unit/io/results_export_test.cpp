#include "io/results_export.h"

#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/hdf5_handle.h"
#include "io/segment_file.h"
#include "segment_test_rows.h"

namespace llmbatch {
namespace {

using nlohmann::json;
using testing::make_record_rows;
using testing::make_row;
using testing::RowKind;
using testing::TempDir;

std::string write_results(const std::string& path, const std::vector<ResultRow>& rows, bool tokens = true) {
  ResultColumns c{.has_tokens = tokens};
  for (const auto& r : rows) c.append(r);
  SegmentFileWriter w(path, tokens, true);
  w.append(c);
  w.finish({}, std::nullopt);
  return path;
}

std::vector<ResultRow> every_kind() {
  std::vector<ResultRow> rows;
  for (int64_t i = 0; i < testing::kNumRowKinds; ++i) {
    for (ResultRow& r : make_record_rows(i, 2)) rows.push_back(std::move(r));
  }
  return rows;
}

std::vector<json> export_lines(const std::string& path, ExportFormat format, std::optional<int64_t> limit = {}) {
  std::stringstream out;
  const int64_t n = export_results(path, format, out, limit);
  std::vector<json> lines;
  for (std::string line; std::getline(out, line);) lines.push_back(json::parse(line));
  EXPECT_EQ(n, static_cast<int64_t>(lines.size()));
  return lines;
}

std::vector<float> floats(const json& j) {
  std::vector<float> out;
  for (const auto& v : j) out.push_back(static_cast<float>(v.get<double>()));
  return out;
}

bool is_score(const ResultRow& r) { return r.status == RecordStatus::kOk && r.finish_reason == FinishReason::kNone; }

TEST(ExportFormat, Names) {
  EXPECT_EQ(parse_export_format("jsonl"), ExportFormat::kJsonl);
  EXPECT_EQ(parse_export_format("openai-batch"), ExportFormat::kOpenAiBatch);
  EXPECT_THROW(parse_export_format("csv"), ConfigError);
}

TEST(ExportJsonl, OneLinePerRowWithEveryField) {
  TempDir dir("export");
  const auto rows = every_kind();
  const auto lines = export_lines(write_results(dir.file("r.h5"), rows), ExportFormat::kJsonl);
  ASSERT_EQ(lines.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const ResultRow& r = rows[i];
    const json& l = lines[i];
    SCOPED_TRACE(l.dump());
    EXPECT_EQ(l["index"], r.index);
    EXPECT_EQ(l["sample"], r.sample);
    EXPECT_EQ(l["id"], r.id);
    EXPECT_EQ(l["status"], r.status == RecordStatus::kOk ? "ok" : "error");
    EXPECT_EQ(l["error"], r.error.empty() ? json(nullptr) : json(r.error));
    EXPECT_EQ(l["text"], r.text);
    EXPECT_EQ(l["output_ids"].get<std::vector<TokenId>>(), r.output_ids);
    EXPECT_EQ(l["num_prompt_tokens"], r.prompt_ids.size());
    EXPECT_EQ(l["num_output_tokens"], r.output_ids.size());
    if (r.finish_reason == FinishReason::kNone) {
      EXPECT_TRUE(l["finish_reason"].is_null());
    } else {
      EXPECT_EQ(l["finish_reason"], std::string(finish_reason_name(r.finish_reason)));
    }
    EXPECT_EQ(l.contains("logprobs"), !r.token_logprobs.empty());
    if (!r.token_logprobs.empty()) {
      EXPECT_EQ(floats(l["logprobs"]["token_logprobs"]), r.token_logprobs);
      const json& top = l["logprobs"]["top_logprobs"];
      ASSERT_EQ(top.size(), r.token_logprobs.size());
      for (size_t t = 0; t < r.top_logprobs.size(); ++t) {
        ASSERT_EQ(top[t].size(), r.top_logprobs[t].size());
        for (size_t k = 0; k < top[t].size(); ++k) {
          EXPECT_EQ(top[t][k]["id"], r.top_logprobs[t][k].token);
          EXPECT_EQ(static_cast<float>(top[t][k]["logprob"].get<double>()), r.top_logprobs[t][k].logprob);
        }
      }
    }
    EXPECT_EQ(l.contains("sum_logprob"), is_score(r));
    if (is_score(r)) {
      EXPECT_EQ(floats(l["prompt_logprobs"]), r.prompt_logprobs);
      EXPECT_EQ(l["sum_logprob"], r.sum_logprob);
      EXPECT_EQ(l["is_greedy"], r.is_greedy);
    }
  }
}

TEST(ExportJsonl, FloatsPrintShortestAndTokenIdsFollowTheFile) {
  TempDir dir("export");
  const std::string path = write_results(dir.file("r.h5"), {make_row(1, 0, RowKind::kGenerateNoTop)}, false);
  std::stringstream out;
  export_results(path, ExportFormat::kJsonl, out);
  EXPECT_NE(out.str().find("[-0.1,-1e-07]"), std::string::npos) << out.str();
  EXPECT_FALSE(json::parse(out.str()).contains("output_ids"));
}

TEST(ExportJsonl, LimitCountsRows) {
  TempDir dir("export");
  EXPECT_EQ(export_lines(write_results(dir.file("r.h5"), every_kind()), ExportFormat::kJsonl, 5).size(), 5u);
}

TEST(ExportOpenAiBatch, OneLinePerRecordWithSamplesAsChoices) {
  TempDir dir("export");
  const auto rows = every_kind();
  const auto lines = export_lines(write_results(dir.file("r.h5"), rows), ExportFormat::kOpenAiBatch);
  ASSERT_EQ(lines.size(), static_cast<size_t>(testing::kNumRowKinds));
  for (int64_t i = 0; i < testing::kNumRowKinds; ++i) {
    const json& l = lines[i];
    SCOPED_TRACE(l.dump());
    const auto record = make_record_rows(i, 2);
    EXPECT_EQ(l["custom_id"], record[0].id);
    EXPECT_EQ(l["id"], "llmbatch-" + std::to_string(i));
    EXPECT_TRUE(l["error"].is_null());
    const json& response = l["response"];
    if (record[0].status == RecordStatus::kError) {
      EXPECT_EQ(response["status_code"], 400);
      EXPECT_EQ(response["body"]["error"]["message"], record[0].error);
      continue;
    }
    EXPECT_EQ(response["status_code"], 200);
    const json& body = response["body"];
    int64_t completion = 0;
    for (const auto& r : record) completion += static_cast<int64_t>(r.output_ids.size());
    EXPECT_EQ(body["usage"]["prompt_tokens"], record[0].prompt_ids.size());
    EXPECT_EQ(body["usage"]["completion_tokens"], completion);
    EXPECT_EQ(body["usage"]["total_tokens"], completion + static_cast<int64_t>(record[0].prompt_ids.size()));
    if (is_score(record[0])) {
      EXPECT_EQ(body["object"], "llmbatch.score");
      EXPECT_EQ(body["score"]["sum_logprob"], record[0].sum_logprob);
      continue;
    }
    EXPECT_EQ(body["object"], "chat.completion");
    ASSERT_EQ(body["choices"].size(), record.size());
    for (size_t s = 0; s < record.size(); ++s) {
      const json& choice = body["choices"][s];
      EXPECT_EQ(choice["index"], s);
      EXPECT_EQ(choice["message"]["role"], "assistant");
      EXPECT_EQ(choice["message"]["content"], record[s].text);
      const FinishReason f = record[s].finish_reason;
      EXPECT_EQ(choice["finish_reason"], f == FinishReason::kLength ? "length" : "stop");
      if (record[s].token_logprobs.empty()) {
        EXPECT_TRUE(choice["logprobs"].is_null());
        continue;
      }
      const json& content = choice["logprobs"]["content"];
      ASSERT_EQ(content.size(), record[s].output_ids.size());
      for (size_t t = 0; t < content.size(); ++t) {
        EXPECT_EQ(content[t]["token_id"], record[s].output_ids[t]);
        EXPECT_EQ(static_cast<float>(content[t]["logprob"].get<double>()), record[s].token_logprobs[t]);
        EXPECT_EQ(content[t]["top_logprobs"].size(), record[s].top_logprobs.empty() ? 0 : 2);
      }
    }
  }
}

TEST(ExportOpenAiBatch, RecordsSpanningReadBatchesStayWholeAndLimitCountsRecords) {
  TempDir dir("export");
  std::vector<ResultRow> rows;
  for (int64_t i = 0; i < 1400; ++i) {  // 4200 rows: record 1365 straddles row 4096
    for (int s = 0; s < 3; ++s) rows.push_back(make_row(i, s, RowKind::kGeneratePlain));
  }
  const std::string path = write_results(dir.file("r.h5"), rows);
  const auto lines = export_lines(path, ExportFormat::kOpenAiBatch);
  ASSERT_EQ(lines.size(), 1400u);
  for (const json& l : lines) EXPECT_EQ(l["response"]["body"]["choices"].size(), 3u);
  EXPECT_EQ(export_lines(path, ExportFormat::kOpenAiBatch, 3).size(), 3u);
  EXPECT_EQ(export_lines(path, ExportFormat::kOpenAiBatch, 0).size(), 0u);
}

TEST(Export, NonResultsFilesAreIoErrors) {
  TempDir dir("export");
  std::stringstream out;
  EXPECT_THROW(export_results(dir.file("missing.h5"), ExportFormat::kJsonl, out), IoError);
  { H5Id f = h5_file_create(dir.file("other.h5")); }
  EXPECT_THROW(export_results(dir.file("other.h5"), ExportFormat::kJsonl, out), IoError);
}

}  // namespace
}  // namespace llmbatch
