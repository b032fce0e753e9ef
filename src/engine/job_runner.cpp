#include "engine/job_runner.h"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <map>
#include <unordered_map>
#include <variant>

#include "backend/backend.h"
#include "core/error.h"
#include "core/log.h"
#include "engine/engine.h"
#include "engine/job_plan.h"
#include "engine/job_progress.h"
#include "engine/request_builder.h"
#include "engine/stop_signals.h"
#include "io/input_source.h"
#include "io/journal.h"
#include "io/segment_layout.h"
#include "io/segment_writer.h"

namespace llmbatch {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Removes what a job writes into output.dir (not the input index cache),
// by the names io's segment layout gives them.
void discard_job_outputs(const std::string& dir) {
  std::error_code ec;
  fs::remove_all(segments_dir(dir), ec);
  for (const auto& journal : journal_paths(dir)) fs::remove(journal, ec);
  for (const auto& file : {status_path(dir), (fs::path(dir) / "job.json").string(),
                           (fs::path(dir) / kResultsFileName).string()}) {
    fs::remove(file, ec);
  }
}

std::tm utc_time(int64_t unix_seconds) {
  const auto t = static_cast<time_t>(unix_seconds);
  std::tm out{};
  gmtime_r(&t, &out);
  return out;
}

// Work of one rank: which unit each in-flight record belongs to, and how many
// of a unit's records are still in the engine.
class UnitTracker {
 public:
  void start(int64_t unit) { outstanding_[unit] = 0; }
  void add(int64_t unit, int64_t record) {
    ++outstanding_[unit];
    unit_of_[record] = unit;
  }
  int64_t unit_of(int64_t record) const { return unit_of_.at(record); }
  // A record's last row arrived; returns whether its unit is now complete.
  bool finish(int64_t record) {
    const int64_t unit = unit_of_.at(record);
    unit_of_.erase(record);
    return --outstanding_[unit] == 0 && (outstanding_.erase(unit), true);
  }
  // A unit whose records were all error rows (none reached the engine).
  bool idle(int64_t unit) {
    if (outstanding_.at(unit) != 0) return false;
    outstanding_.erase(unit);
    return true;
  }

 private:
  std::unordered_map<int64_t, int64_t> outstanding_;
  std::unordered_map<int64_t, int64_t> unit_of_;
};

std::map<std::string, std::string> segment_attributes(const JobPlan& plan) {
  return {{"job_yaml", job_config_to_yaml(plan.config)},
          {"model_hash", plan.manifest.fingerprint.at("model")},
          {"tokenizer_hash", plan.manifest.fingerprint.at("tokenizer")},
          {"llmbatch_version", LLMBATCH_VERSION}};
}

}  // namespace

JobSummary run_job(const JobConfig& config, const RunOptions& options) {
  JobPlan plan = plan_job(config);
  if (plan.stored && !plan.changed.empty()) {
    if (!options.restart) {
      std::string what;
      for (const auto& c : plan.changed) what += (what.empty() ? "" : ", ") + c;
      throw ConfigError("output.dir holds the results of a different job (" + what +
                            " changed); refusing to resume. Use --restart to discard them, or another output.dir",
                        {.file = config.output.dir, .key = "output.dir"});
    }
  }
  if (options.restart && plan.stored) {
    spdlog::warn("--restart: discarding the job outputs in {}", config.output.dir);
    discard_job_outputs(config.output.dir);
    plan = plan_job(config);
  }
  if (!plan.stored) write_job_manifest(config.output.dir, plan.manifest);
  for (const auto& orphan : remove_orphan_segments(config.output.dir)) {
    spdlog::info("removed {} (written but never journaled: its units run again)", orphan);
  }
  const CommittedWork committed = read_committed_units(config.output.dir);
  std::fputs(format_job_plan(plan).c_str(), stderr);

  // The engine.
  const ModelConfig& mc = plan.model->config;
  BackendOptions backend_options;
  backend_options.weight_dtype = config.model.dtype;
  backend_options.kv_dtype = config.engine.kv_dtype;
  backend_options.block_size = config.engine.block_size;
  backend_options.num_blocks = plan.num_kv_blocks;
  backend_options.max_model_len = plan.max_model_len;
  backend_options.threads = static_cast<int>(config.engine.threads.value_or(0));
  const auto backend = make_cpu_backend(mc, MappedWeightSet(plan.model->tensors), backend_options);
  KvCache cache({.block_size = config.engine.block_size,
                 .num_blocks = plan.num_kv_blocks,
                 .prefix_caching = config.engine.prefix_caching,
                 .watermark_blocks = std::max<int64_t>(1, plan.num_kv_blocks / 100)});
  EngineOptions engine_options;
  engine_options.scheduler = {.policy = config.engine.scheduler == SchedulerKind::kStatic ? SchedulerPolicy::kStatic
                                                                                          : SchedulerPolicy::kContinuous,
                              .max_num_seqs = config.engine.max_num_seqs,
                              .max_num_batched_tokens = config.engine.max_num_batched_tokens};
  engine_options.max_model_len = plan.max_model_len;
  engine_options.vocab_size = mc.vocab_size;
  for (int64_t id : plan.model->generation.eos_token_ids) engine_options.eos_ids.push_back(static_cast<TokenId>(id));
  engine_options.tokenizer = plan.tokenizer.get();
  Engine engine(*backend, cache, engine_options);
  spdlog::info("backend: {}", backend->describe());

  const RequestBuilder builder(*plan.tokenizer, plan.chat,
                               {.mode = config.mode,
                                .sampling = config.sampling,
                                .max_model_len = plan.max_model_len,
                                .truncate = config.input.truncate,
                                .now = utc_time(plan.manifest.created_at)});
  SegmentWriter writer(config.output.dir, options.rank,
                       {.text = config.output.text, .token_ids = config.output.token_ids,
                        .attributes = segment_attributes(plan)});
  JobProgress progress(config.output.dir, plan.index.num_records, plan.records_committed,
                       config.output.progress_interval_s);
  progress.update(0, 0, 0.0, true);  // status.json exists from the start, for monitors

  JobSummary summary;
  summary.records_skipped = plan.records_committed;
  std::vector<int64_t> todo;
  for (const auto& unit : plan.index.units) {
    if (!committed.units.contains(unit.id)) todo.push_back(unit.id);
  }

  install_stop_signals();
  UnitTracker tracker;
  std::unique_ptr<InputSource> source;
  size_t next = 0;
  int64_t rows_since_commit = 0;
  auto last_commit = Clock::now();
  std::optional<Clock::time_point> stop_since;
  // Enough waiting requests that the scheduler never starves between units.
  const int64_t refill_below = std::max<int64_t>(2 * config.engine.max_num_seqs, 64);

  auto commit = [&] {
    if (writer.commit()) ++summary.segments;
    rows_since_commit = 0;
    last_commit = Clock::now();
  };
  // Returns whether this was the record's first (sample 0) row: every
  // record has exactly one, error rows included.
  auto write_row = [&](int64_t unit, ResultRow row) {
    const bool first_row = row.sample == 0;
    if (first_row) {
      progress.record_done(row.status == RecordStatus::kOk);
      ++(row.status == RecordStatus::kOk ? summary.records_ok : summary.records_error);
    }
    writer.add_row(unit, std::move(row));
    ++rows_since_commit;
    return first_row;
  };

  for (;;) {
    if (stop_requested() && !stop_since) {
      stop_since = Clock::now();
      spdlog::warn("signal {}: no new work; finishing what runs for up to {:.0f} s, then committing",
                   stop_signal(), options.stop_grace_s);
    }
    // Keep the engine fed with whole units.
    while (!stop_since && next < todo.size() && engine.num_waiting() < refill_below) {
      const WorkUnit& unit = plan.index.units[static_cast<size_t>(todo[next++])];
      source = InputSource::open(plan.index, unit, plan.input_options, std::move(source));
      tracker.start(unit.id);
      while (auto record = source->next()) {
        auto built = builder.build(*record);
        if (auto* row = std::get_if<ResultRow>(&built)) {
          write_row(unit.id, std::move(*row));
        } else {
          tracker.add(unit.id, record->index);
          engine.add(std::move(std::get<EngineRequest>(built)));
        }
      }
      if (tracker.idle(unit.id)) writer.complete_unit(unit.id);
    }
    if (!engine.has_unfinished() && (next >= todo.size() || stop_since)) break;
    if (stop_since && std::chrono::duration<double>(Clock::now() - *stop_since).count() > options.stop_grace_s) break;

    engine.step();
    // A request's rows (one per sample) arrive together; its unit may be
    // complete once all of them are written.
    std::vector<int64_t> done;
    for (auto& row : engine.take_finished()) {
      const int64_t record = row.index;
      if (write_row(tracker.unit_of(record), std::move(row))) done.push_back(record);
    }
    for (int64_t record : done) {
      const int64_t unit = tracker.unit_of(record);
      if (tracker.finish(record)) writer.complete_unit(unit);
    }
    const KvStats kv = cache.stats();
    progress.update(engine.counters().prompt_tokens, engine.counters().generated_tokens,
                    static_cast<double>(kv.blocks_used) / static_cast<double>(kv.num_blocks));
    const double since_commit = std::chrono::duration<double>(Clock::now() - last_commit).count();
    if (since_commit >= config.output.checkpoint_interval_s ||
        (config.output.checkpoint_records > 0 && rows_since_commit >= config.output.checkpoint_records)) {
      commit();
    }
  }
  commit();
  summary.prompt_tokens = engine.counters().prompt_tokens;
  summary.generated_tokens = engine.counters().generated_tokens;
  summary.wall_seconds = progress.elapsed_seconds();
  summary.stopped = stop_since.has_value();
  progress.update(summary.prompt_tokens, summary.generated_tokens, 0.0, true);
  progress.finish(summary.stopped ? JobState::kStopped : JobState::kFinished);
  return summary;
}

}  // namespace llmbatch
