#include "engine/job_progress.h"

#include <cmath>
#include <cstdio>

#include "core/log.h"

namespace llmbatch {
namespace {

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string format_duration(double seconds) {
  const auto s = static_cast<int64_t>(std::llround(std::max(0.0, seconds)));
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600), static_cast<long long>(s % 3600 / 60));
  } else if (s >= 60) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  }
  return buf;
}

JobProgress::JobProgress(std::string out_dir, int64_t records_total, int64_t records_before, double interval_s)
    : out_dir_(std::move(out_dir)),
      interval_s_(interval_s),
      records_before_(records_before),
      start_(Clock::now()),
      last_report_(start_) {
  status_.records_total = records_total;
  status_.records_done = records_before;
  status_.started_at = unix_now();
  status_.updated_at = status_.started_at;
}

double JobProgress::elapsed_seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

void JobProgress::record_done(bool ok) {
  ++status_.records_done;
  ++(ok ? status_.records_ok : status_.records_error);
}

void JobProgress::update(int64_t prompt_tokens, int64_t generated_tokens, double kv_usage, bool force) {
  const auto now = Clock::now();
  if (!force && std::chrono::duration<double>(now - last_report_).count() < interval_s_) return;
  last_report_ = now;
  const double elapsed = std::max(1e-9, elapsed_seconds());
  status_.prompt_tokens = prompt_tokens;
  status_.generated_tokens = generated_tokens;
  status_.tokens_per_s = static_cast<double>(generated_tokens) / elapsed;
  prompt_rate_ = static_cast<double>(prompt_tokens) / elapsed;
  status_.kv_usage = kv_usage;
  status_.updated_at = unix_now();
  const int64_t done_now = status_.records_done - records_before_;
  if (done_now > 0 && status_.records_total) {
    status_.eta_s = static_cast<double>(*status_.records_total - status_.records_done) * elapsed /
                    static_cast<double>(done_now);
  }
  spdlog::info("progress: {}", line());
  write_job_status(out_dir_, status_);
}

void JobProgress::finish(JobState state, const std::string& error) {
  status_.state = state;
  status_.error = error;
  status_.updated_at = unix_now();
  if (state == JobState::kFinished) status_.eta_s = 0.0;
  write_job_status(out_dir_, status_);
}

std::string JobProgress::line() const {
  const int64_t total = status_.records_total.value_or(0);
  char buf[256];
  std::snprintf(buf, sizeof buf, "records %lld/%lld (%.1f%%), prompt %.0f tok/s, generated %.0f tok/s, KV %.0f%%, ETA %s",
                static_cast<long long>(status_.records_done), static_cast<long long>(total),
                total > 0 ? 100.0 * static_cast<double>(status_.records_done) / static_cast<double>(total) : 0.0,
                prompt_rate_, status_.tokens_per_s, 100.0 * status_.kv_usage,
                status_.eta_s ? format_duration(*status_.eta_s).c_str() : "?");
  return buf;
}

}  // namespace llmbatch
