#include "io/job_status.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/error.h"
#include "io/segment_layout.h"
#include "segment_test_rows.h"

namespace llmbatch {
namespace {

using testing::TempDir;

JobStatus sample_status() {
  JobStatus s;
  s.state = JobState::kRunning;
  s.records_done = 120;
  s.records_total = 1000;
  s.records_ok = 119;
  s.records_error = 1;
  s.prompt_tokens = 15360;
  s.generated_tokens = 30720;
  s.tokens_per_s = 812.5;
  s.kv_usage = 0.625;
  s.eta_s = 1081.0;
  s.started_at = 1700000000;
  s.updated_at = 1700000151;
  s.ranks = {{0, 61, 15400, 410.0, 0.5}, {1, 59, 15320, 402.5, 0.75}};
  return s;
}

TEST(JobStatus, StateNames) {
  EXPECT_EQ(job_state_name(JobState::kRunning), "running");
  EXPECT_EQ(job_state_name(JobState::kFinished), "finished");
  EXPECT_EQ(job_state_name(JobState::kStopped), "stopped");
  EXPECT_EQ(job_state_name(JobState::kFailed), "failed");
}

TEST(JobStatus, Iso8601TimesMatchKnownInstants) {
  // 1700000000 s after the epoch is 2023-11-14 22:13:20 UTC.
  EXPECT_EQ(iso8601_utc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(iso8601_utc(1700000000), "2023-11-14T22:13:20Z");
  EXPECT_EQ(parse_iso8601_utc("2023-11-14T22:13:20Z"), 1700000000);
  EXPECT_EQ(parse_iso8601_utc("2023-11-14 22:13:20"), std::nullopt);
  EXPECT_EQ(parse_iso8601_utc("2023-11-14T22:13:20Zjunk"), std::nullopt);
}

TEST(JobStatus, JsonHasTheDocumentedShape) {
  const nlohmann::json j = job_status_to_json(sample_status());
  EXPECT_EQ(j["state"], "running");
  EXPECT_EQ(j["records"], (nlohmann::json{{"done", 120}, {"total", 1000}, {"ok", 119}, {"error", 1}}));
  EXPECT_EQ(j["tokens"], (nlohmann::json{{"prompt", 15360}, {"generated", 30720}}));
  EXPECT_EQ(j["started_at"], "2023-11-14T22:13:20Z");
  EXPECT_TRUE(j["error"].is_null());
  EXPECT_EQ(j["ranks"][1]["kv_usage"], 0.75);
}

TEST(JobStatus, FileRoundTripIncludingUnknownsAndFailure) {
  TempDir dir("status");
  EXPECT_EQ(read_job_status(dir.str()), std::nullopt);
  write_job_status(dir.str(), sample_status());
  EXPECT_EQ(read_job_status(dir.str()), sample_status());
  JobStatus failed = sample_status();
  failed.state = JobState::kFailed;
  failed.records_total.reset();
  failed.eta_s.reset();
  failed.error = "model format error: ...";
  failed.ranks.clear();
  write_job_status(dir.str(), failed);
  EXPECT_EQ(read_job_status(dir.str()), failed);
  EXPECT_FALSE(std::filesystem::exists(status_path(dir.str()) + ".tmp"));
}

TEST(JobStatus, MalformedFilesAreIoErrors) {
  TempDir dir("status");
  std::ofstream(status_path(dir.str())) << "{\"state\": \"running\"";
  EXPECT_THROW(read_job_status(dir.str()), IoError);
  nlohmann::json j = job_status_to_json(sample_status());
  j["state"] = "sleeping";
  EXPECT_THROW(job_status_from_json(j), IoError);
  j = job_status_to_json(sample_status());
  j["records"].erase("ok");
  EXPECT_THROW(job_status_from_json(j), IoError);
  j = job_status_to_json(sample_status());
  j["updated_at"] = "yesterday";
  EXPECT_THROW(job_status_from_json(j), IoError);
}

}  // namespace
}  // namespace llmbatch
