// The whole job on one rank: plan it, resume from the journal, stream work
// units through the request builder into the engine, write finished rows
// per unit, commit segments every output.checkpoint_interval_s (or N
// records), report progress, and stop cleanly on a signal.
//
// Exactly once: a unit's rows are committed together with the unit (one
// segment + one journal line); a unit not in the journal is run again from
// the start, and keyed sampling makes its rows the same as the first time.
//
// Multi-rank jobs (comm) will claim units from a shared counter instead of
// walking them in order; everything else here stays per rank.
#pragma once

#include <cstdint>

#include "io/job_config.h"

namespace llmbatch {

struct RunOptions {
  bool restart = false;  // discard whatever output.dir holds from another job
  int rank = 0;
  // After a stop signal, how long in-flight requests may still run before
  // the finished units are committed and the job exits.
  double stop_grace_s = 10.0;
};

struct JobSummary {
  int64_t records_ok = 0;  // this run
  int64_t records_error = 0;
  int64_t records_skipped = 0;  // committed by an earlier run
  int64_t prompt_tokens = 0;
  int64_t generated_tokens = 0;
  int64_t segments = 0;
  double wall_seconds = 0.0;
  bool stopped = false;  // by a signal: resumable
};

// Throws ConfigError & co for job-level problems before any work starts.
JobSummary run_job(const JobConfig& config, const RunOptions& options);

}  // namespace llmbatch
