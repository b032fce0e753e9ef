// A running job's progress: a log line every output.progress_interval_s
// (records done/total, prompt and generated tok/s, KV use, ETA) and
// OUT_DIR/status.json rewritten atomically at the same moments, for
// monitors and `llmbatch status`.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "io/job_status.h"

namespace llmbatch {

class JobProgress {
 public:
  // `records_before`: records committed by earlier runs of the job (resume).
  JobProgress(std::string out_dir, int64_t records_total, int64_t records_before, double interval_s);

  void record_done(bool ok);
  // Reports when the interval has passed (or `force`): logs and writes status.json.
  void update(int64_t prompt_tokens, int64_t generated_tokens, double kv_usage, bool force = false);
  // Final status.json.
  void finish(JobState state, const std::string& error = {});

  const JobStatus& status() const { return status_; }
  double elapsed_seconds() const;
  // "records 120/1000 (12.0%), prompt 1520 tok/s, generated 803 tok/s, KV 62%, ETA 18m20s"
  std::string line() const;

 private:
  using Clock = std::chrono::steady_clock;
  std::string out_dir_;
  double interval_s_;
  int64_t records_before_;
  Clock::time_point start_;
  Clock::time_point last_report_;
  JobStatus status_;
  double prompt_rate_ = 0.0;
};

// "1h02m", "18m20s", "42s".
std::string format_duration(double seconds);

}  // namespace llmbatch
