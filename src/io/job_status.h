// OUT_DIR/status.json: a job's progress for monitors to poll (and for
// `llmbatch status`). Written whole and atomically (temporary file, fsync,
// rename), so a reader never sees half a file, e.g.
//
//   {"state":"running","records":{"done":120,"total":1000,"ok":119,"error":1},
//    "tokens":{"prompt":15360,"generated":30720},"tokens_per_s":812.5,
//    "kv_usage":0.62,"eta_s":1081.0,"started_at":"2026-11-25T20:00:00Z",
//    "updated_at":"2026-11-25T20:02:31Z","error":null,
//    "ranks":[{"rank":0,"records_done":61,"tokens_generated":15400,"tokens_per_s":410.0,"kv_usage":0.6}]}
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace llmbatch {

enum class JobState { kRunning, kFinished, kStopped, kFailed };
std::string_view job_state_name(JobState state);  // "running", "finished", "stopped", "failed"

struct RankProgress {
  int rank = 0;
  int64_t records_done = 0;
  int64_t tokens_generated = 0;
  double tokens_per_s = 0.0;
  double kv_usage = 0.0;
  bool operator==(const RankProgress&) const = default;
};

struct JobStatus {
  JobState state = JobState::kRunning;
  int64_t records_done = 0;
  std::optional<int64_t> records_total;  // unknown until the input is indexed
  int64_t records_ok = 0;
  int64_t records_error = 0;
  int64_t prompt_tokens = 0;
  int64_t generated_tokens = 0;
  double tokens_per_s = 0.0;  // generated tokens per second, recent
  double kv_usage = 0.0;      // fraction of KV blocks in use, 0..1
  std::optional<double> eta_s;
  int64_t started_at = 0;  // Unix seconds (UTC); ISO 8601 in the file
  int64_t updated_at = 0;
  std::string error;                // kFailed: what stopped the job
  std::vector<RankProgress> ranks;  // empty: not reported per rank
  bool operator==(const JobStatus&) const = default;
};

nlohmann::json job_status_to_json(const JobStatus& status);
// Throws IoError naming `file` for a document that is not a JobStatus.
JobStatus job_status_from_json(const nlohmann::json& json, const std::string& file = {});

// Writes OUT_DIR/status.json atomically. Throws IoError.
void write_job_status(const std::string& out_dir, const JobStatus& status);
// nullopt when OUT_DIR has no status.json; IoError when it cannot be parsed.
std::optional<JobStatus> read_job_status(const std::string& out_dir);

// "2026-11-25T20:46:45Z" for Unix seconds, and back (nullopt if malformed).
std::string iso8601_utc(int64_t unix_seconds);
std::optional<int64_t> parse_iso8601_utc(const std::string& text);

}  // namespace llmbatch
