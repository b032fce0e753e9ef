// `llmbatch merge OUT_DIR`, `llmbatch export RESULTS.h5`, `llmbatch status
// OUT_DIR`: the output side of a job (docs/output-format.md). status reads
// only the journals and status.json, so it is safe while the job runs.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "core/error.h"
#include "io/job_status.h"
#include "io/journal.h"
#include "io/results_export.h"
#include "io/results_merge.h"
#include "io/segment_layout.h"

namespace llmbatch::cli {
namespace {

// A job that has not touched status.json for this long is probably gone.
constexpr int64_t kStaleAfterS = 300;

struct ExportArgs {
  std::string results;
  std::string format = "jsonl";
  std::optional<int64_t> limit;
  std::string output;
};

struct StatusArgs {
  std::string out_dir;
  bool json = false;
};

int run_merge(const std::string& out_dir, const std::string& output) {
  const MergeSummary s = merge_results(out_dir, output);
  std::printf("merged %lld rows (%lld records) from %lld segments into %s\n", static_cast<long long>(s.rows),
              static_cast<long long>(s.records), static_cast<long long>(s.segments), s.output_path.c_str());
  return 0;
}

int run_export(const ExportArgs& a) {
  const ExportFormat format = parse_export_format(a.format);
  if (a.limit && *a.limit < 0) throw ConfigError("--limit must be >= 0", {.key = "--limit"});
  if (a.output.empty()) {
    export_results(a.results, format, std::cout, a.limit);
    std::cout.flush();
    return 0;
  }
  // Written under a temporary name first: a failed export leaves no file
  // that looks complete.
  const std::string tmp = a.output + ".tmp";
  try {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw IoError("cannot create the output file", {.file = a.output});
    export_results(a.results, format, out, a.limit);
    out.close();
    if (!out) throw IoError("cannot write the output file", {.file = a.output}, "is the disk full?");
    std::filesystem::rename(tmp, a.output);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw;
  }
  return 0;
}

struct RankCommitted {
  int64_t segments = 0, units = 0, rows = 0;
};

nlohmann::json committed_json(const CommittedWork& work, const std::map<int, RankCommitted>& ranks) {
  nlohmann::json per_rank = nlohmann::json::array();
  for (const auto& [rank, c] : ranks) {
    per_rank.push_back({{"rank", rank}, {"segments", c.segments}, {"units", c.units}, {"rows", c.rows}});
  }
  return {{"segments", work.segments.size()}, {"units", work.units.size()}, {"rows", work.rows}, {"ranks", per_rank}};
}

std::string duration_text(double seconds) {
  const auto s = static_cast<int64_t>(seconds);
  if (s >= 3600) return std::to_string(s / 3600) + "h " + std::to_string(s % 3600 / 60) + "m";
  if (s >= 60) return std::to_string(s / 60) + "m " + std::to_string(s % 60) + "s";
  return std::to_string(s) + "s";
}

void print_status(const JobStatus& s, int64_t now) {
  std::printf("state      %s (updated %s, %s ago)\n", std::string(job_state_name(s.state)).c_str(),
              iso8601_utc(s.updated_at).c_str(), duration_text(static_cast<double>(now - s.updated_at)).c_str());
  if (s.state == JobState::kRunning && now - s.updated_at > kStaleAfterS) {
    std::printf("           no update for %s: is the job still running?\n",
                duration_text(static_cast<double>(now - s.updated_at)).c_str());
  }
  if (!s.error.empty()) std::printf("error      %s\n", s.error.c_str());
  std::string total = "?";
  std::string percent;
  if (s.records_total) {
    total = std::to_string(*s.records_total);
    if (*s.records_total > 0) {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, " (%.1f%%)", 100.0 * static_cast<double>(s.records_done) /
                                                            static_cast<double>(*s.records_total));
      percent = buffer;
    }
  }
  std::printf("records    %lld / %s%s: %lld ok, %lld error\n", static_cast<long long>(s.records_done), total.c_str(),
              percent.c_str(), static_cast<long long>(s.records_ok), static_cast<long long>(s.records_error));
  std::printf("tokens     %lld prompt, %lld generated, %.1f tok/s\n", static_cast<long long>(s.prompt_tokens),
              static_cast<long long>(s.generated_tokens), s.tokens_per_s);
  std::printf("kv cache   %.0f%% used\n", 100.0 * s.kv_usage);
  if (s.eta_s && s.state == JobState::kRunning) std::printf("eta        %s\n", duration_text(*s.eta_s).c_str());
  std::printf("elapsed    %s since %s\n", duration_text(static_cast<double>(s.updated_at - s.started_at)).c_str(),
              iso8601_utc(s.started_at).c_str());
}

int run_status(const StatusArgs& a) {
  const CommittedWork work = read_committed_units(a.out_dir);
  const std::optional<JobStatus> status = read_job_status(a.out_dir);
  if (!status && journal_paths(a.out_dir).empty()) {
    throw IoError("not an llmbatch output directory (no status.json, no journal)", {.file = a.out_dir},
                  "give the job's output.dir");
  }
  std::map<int, RankCommitted> ranks;
  for (const JournalEntry& e : work.segments) {
    RankCommitted& c = ranks[parse_segment_file_name(e.segment)->rank];
    ++c.segments;
    c.units += static_cast<int64_t>(e.units.size());
    c.rows += e.rows;
  }
  if (a.json) {
    const nlohmann::json out = {{"status", status ? job_status_to_json(*status) : nlohmann::json(nullptr)},
                                {"committed", committed_json(work, ranks)}};
    std::printf("%s\n", out.dump(1).c_str());
    return 0;
  }
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  if (status) {
    print_status(*status, now);
  } else {
    std::printf("state      unknown (no status.json yet)\n");
  }
  std::printf("committed  %zu units, %lld rows in %zu segments\n", work.units.size(),
              static_cast<long long>(work.rows), work.segments.size());
  for (const auto& [rank, c] : ranks) {
    std::printf("  rank %-4d %lld units, %lld rows in %lld segments\n", rank, static_cast<long long>(c.units),
                static_cast<long long>(c.rows), static_cast<long long>(c.segments));
  }
  return 0;
}

}  // namespace

void add_results_commands(CLI::App& app, CommandAction& action) {
  auto* merge = app.add_subcommand("merge", "merge a job's committed segments into results.h5");
  auto merge_dir = std::make_shared<std::string>();
  auto merge_output = std::make_shared<std::string>();
  merge->add_option("OUT_DIR", *merge_dir, "the job's output.dir")->required();
  merge->add_option("--output", *merge_output, "results file (default OUT_DIR/results.h5)");
  merge->callback([merge_dir, merge_output, &action] {
    action = [merge_dir, merge_output] { return run_merge(*merge_dir, *merge_output); };
  });

  auto* exp = app.add_subcommand("export", "write a results file as JSON lines");
  auto export_args = std::make_shared<ExportArgs>();
  exp->add_option("RESULTS", export_args->results, "results.h5 (or a segment file)")->required();
  exp->add_option("--format", export_args->format, "jsonl|openai-batch")->capture_default_str();
  exp->add_option("--limit", export_args->limit, "at most N lines (rows; records for openai-batch)");
  exp->add_option("--output", export_args->output, "file to write (default: stdout)");
  exp->callback([export_args, &action] { action = [export_args] { return run_export(*export_args); }; });

  auto* status = app.add_subcommand("status", "progress of a job from its output dir (safe while it runs)");
  auto status_args = std::make_shared<StatusArgs>();
  status->add_option("OUT_DIR", status_args->out_dir, "the job's output.dir")->required();
  status->add_flag("--json", status_args->json, "print JSON: status.json and what the journals hold");
  status->callback([status_args, &action] { action = [status_args] { return run_status(*status_args); }; });
}

}  // namespace llmbatch::cli
