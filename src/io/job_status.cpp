#include "io/job_status.h"

#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "core/error.h"
#include "io/segment_fs.h"
#include "io/segment_layout.h"

namespace llmbatch {
namespace {

constexpr JobState kStates[] = {JobState::kRunning, JobState::kFinished, JobState::kStopped, JobState::kFailed};

nlohmann::json optional_json(const auto& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

template <typename T>
std::optional<T> optional_from(const nlohmann::json& j) {
  return j.is_null() ? std::nullopt : std::optional<T>(j.get<T>());
}

}  // namespace

std::string_view job_state_name(JobState state) {
  switch (state) {
    case JobState::kRunning: return "running";
    case JobState::kFinished: return "finished";
    case JobState::kStopped: return "stopped";
    case JobState::kFailed: return "failed";
  }
  return "";
}

std::string iso8601_utc(int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::optional<int64_t> parse_iso8601_utc(const std::string& text) {
  std::tm tm{};
  std::istringstream in(text);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%SZ");
  if (in.fail() || in.peek() != std::char_traits<char>::eof()) return std::nullopt;
  return static_cast<int64_t>(timegm(&tm));
}

nlohmann::json job_status_to_json(const JobStatus& s) {
  nlohmann::json ranks = nlohmann::json::array();
  for (const RankProgress& r : s.ranks) {
    ranks.push_back({{"rank", r.rank},
                     {"records_done", r.records_done},
                     {"tokens_generated", r.tokens_generated},
                     {"tokens_per_s", r.tokens_per_s},
                     {"kv_usage", r.kv_usage}});
  }
  return {{"state", job_state_name(s.state)},
          {"records",
           {{"done", s.records_done}, {"total", optional_json(s.records_total)}, {"ok", s.records_ok},
            {"error", s.records_error}}},
          {"tokens", {{"prompt", s.prompt_tokens}, {"generated", s.generated_tokens}}},
          {"tokens_per_s", s.tokens_per_s},
          {"kv_usage", s.kv_usage},
          {"eta_s", optional_json(s.eta_s)},
          {"started_at", iso8601_utc(s.started_at)},
          {"updated_at", iso8601_utc(s.updated_at)},
          {"error", s.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.error)},
          {"ranks", ranks}};
}

JobStatus job_status_from_json(const nlohmann::json& j, const std::string& file) {
  const auto time_field = [&](const char* key) {
    const auto t = parse_iso8601_utc(j.at(key).get<std::string>());
    if (!t) throw IoError("not an ISO 8601 UTC time", {.file = file, .key = key});
    return *t;
  };
  try {
    JobStatus s;
    const std::string state = j.at("state").get<std::string>();
    bool known = false;
    for (const JobState candidate : kStates) {
      if (job_state_name(candidate) == state) {
        s.state = candidate;
        known = true;
      }
    }
    if (!known) throw IoError("unknown job state '" + state + "'", {.file = file, .key = "state"});
    const nlohmann::json& records = j.at("records");
    s.records_done = records.at("done").get<int64_t>();
    s.records_total = optional_from<int64_t>(records.at("total"));
    s.records_ok = records.at("ok").get<int64_t>();
    s.records_error = records.at("error").get<int64_t>();
    s.prompt_tokens = j.at("tokens").at("prompt").get<int64_t>();
    s.generated_tokens = j.at("tokens").at("generated").get<int64_t>();
    s.tokens_per_s = j.at("tokens_per_s").get<double>();
    s.kv_usage = j.at("kv_usage").get<double>();
    s.eta_s = optional_from<double>(j.at("eta_s"));
    s.started_at = time_field("started_at");
    s.updated_at = time_field("updated_at");
    s.error = j.at("error").is_null() ? "" : j.at("error").get<std::string>();
    for (const nlohmann::json& r : j.at("ranks")) {
      s.ranks.push_back({r.at("rank").get<int>(), r.at("records_done").get<int64_t>(),
                         r.at("tokens_generated").get<int64_t>(), r.at("tokens_per_s").get<double>(),
                         r.at("kv_usage").get<double>()});
    }
    return s;
  } catch (const nlohmann::json::exception& e) {
    throw IoError(std::string("not a job status document: ") + e.what(), {.file = file});
  }
}

void write_job_status(const std::string& out_dir, const JobStatus& status) {
  write_file_atomically(status_path(out_dir), job_status_to_json(status).dump(1) + "\n");
}

std::optional<JobStatus> read_job_status(const std::string& out_dir) {
  const std::string path = status_path(out_dir);
  std::ifstream in(path);
  if (!in) return std::nullopt;
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw IoError("status file is not JSON", {.file = path});
  return job_status_from_json(j, path);
}

}  // namespace llmbatch
