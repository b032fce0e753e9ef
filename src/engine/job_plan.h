// `llmbatch validate`, and the first thing `llmbatch run` does: check that
// the job can run before any work starts (model, tokenizer, chat template,
// inputs, output directory, resume state) and say what it will do. Every
// job-level problem is a ConfigError/IoError/ModelFormatError here (exit 2),
// never a failure hours later.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/job_manifest.h"
#include "io/job_config.h"
#include "io/work_units.h"
#include "model/model_dir.h"
#include "tokenizer/chat_template_config.h"
#include "tokenizer/tokenizer.h"

namespace llmbatch {

struct JobPlan {
  JobConfig config;
  std::unique_ptr<ModelDir> model;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;
  std::optional<ModelChatTemplate> chat;  // none: message records become error rows
  InputOptions input_options;
  InputIndex index;
  int64_t max_model_len = 0;
  uint64_t kv_cache_bytes = 0;
  int64_t num_kv_blocks = 0;
  uint64_t input_bytes = 0;
  std::vector<std::string> eos_tokens;  // for the plan printout
  // Resume state of output.dir.
  JobManifest manifest;                   // this job's
  std::optional<JobManifest> stored;      // the directory's, if any
  std::vector<std::string> changed;       // fingerprint entries that differ
  int64_t units_committed = 0;
  int64_t records_committed = 0;
};

// Opens and checks everything; creates output.dir. Throws for job-level
// problems. Does not start the backend.
JobPlan plan_job(const JobConfig& config);

// Human-readable summary: model, inputs, units, records, estimated tokens,
// KV cache, resume state.
std::string format_job_plan(const JobPlan& plan);

// KV bytes when engine.kv_cache_memory is auto: a quarter of the memory
// available after the weights, between 256 MiB and 4 GiB.
uint64_t auto_kv_cache_bytes(uint64_t weight_bytes);

}  // namespace llmbatch
