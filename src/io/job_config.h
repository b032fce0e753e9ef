// A job's settings: what model, which inputs, generate or score, how to
// sample, where to write, and how the engine and ranks are set up. Read from
// a YAML job file and `--set key=value` flags; docs/jobs.md documents every
// key (type, default, meaning) and is the reference for this struct.
//
// Loading checks types and ranges and names the key (and the file line) of
// anything wrong; it does not touch the file system beyond the job file
// itself: whether model.path or input.paths exist is the job runner's
// validate step.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "io/input_options.h"
#include "sampling/sampling_params.h"

namespace llmbatch {

enum class JobMode { kGenerate, kScore };
// Which end of a too-long prompt is cut; kNone makes it an error row.
enum class TruncateSide { kNone, kLeft, kRight };
enum class BackendKind { kAuto, kCpu, kCuda };
enum class SchedulerKind { kContinuous, kStatic };

struct ModelSettings {
  std::string path;           // required: a Hugging Face model directory
  std::string tokenizer;      // after loading: model.path unless set
  std::string chat_template;  // a Jinja file; empty: tokenizer_config.json's
  std::optional<DType> dtype;  // compute/weight dtype; nullopt = auto (the checkpoint's)
  int64_t max_model_len = 0;   // 0 = max_position_embeddings from config.json
  bool operator==(const ModelSettings&) const = default;
};

struct InputSettings {
  std::vector<std::string> paths;  // required: files or globs, in this order
  InputFormat format = InputFormat::kJsonl;
  std::string field = "prompt";  // the record key holding the prompt text
  TruncateSide truncate = TruncateSide::kNone;
  int64_t records_per_unit = kDefaultRecordsPerUnit;  // records per claimable work unit
  uint64_t max_record_bytes = kDefaultMaxRecordBytes;  // a longer record is an error row
  bool operator==(const InputSettings&) const = default;
};

struct OutputSettings {
  std::string dir;  // required
  double checkpoint_interval_s = 60.0;  // commit a segment at least this often
  int64_t checkpoint_records = 0;       // also commit every N finished records; 0 = off
  bool text = true;                     // store /text/output
  bool token_ids = true;                // store /tokens/*
  double progress_interval_s = 30.0;    // progress line period when not on a terminal
  bool operator==(const OutputSettings&) const = default;
};

struct EngineSettings {
  BackendKind backend = BackendKind::kAuto;
  std::optional<uint64_t> kv_cache_memory;  // bytes; nullopt = auto
  DType kv_dtype = DType::BF16;             // BF16 or F32
  int64_t block_size = 16;                  // tokens per KV block, a power of two
  int64_t max_num_seqs = 256;
  int64_t max_num_batched_tokens = 2048;
  bool prefix_caching = true;
  std::optional<int64_t> threads;  // CPU threads per rank; nullopt = auto
  SchedulerKind scheduler = SchedulerKind::kContinuous;
  bool operator==(const EngineSettings&) const = default;
};

struct ParallelSettings {
  int64_t zero_group_size = 1;             // ranks that share one copy of the weights
  std::optional<int64_t> resident_layers;  // layers kept gathered; nullopt = auto
  bool operator==(const ParallelSettings&) const = default;
};

struct JobConfig {
  ModelSettings model;
  InputSettings input;
  JobMode mode = JobMode::kGenerate;
  SamplingParams sampling;
  OutputSettings output;
  EngineSettings engine;
  ParallelSettings parallel;
};

// The job file at `yaml_path` (if any) over the defaults, then each
// `--set a.b.c=value` in order (value: a YAML scalar, flow sequence or flow
// map, e.g. `input.paths=[a.jsonl,b.jsonl]`). A null value (`key: ~`,
// `--set key=`) puts a key, or every key of a section, back to its default.
// Throws ConfigError naming the key path, the file and line (or the --set
// argument), and the closest known key for a misspelt one; IoError when the
// job file cannot be read.
JobConfig load_job_config(const std::optional<std::string>& yaml_path,
                          std::span<const std::string> set_overrides);

// The complete effective config as a YAML document, every key with its value
// (defaults included); load_job_config reads it back to an equal config.
std::string job_config_to_yaml(const JobConfig& config);

// Every key path a job file may set outside `sampling`, in document order
// ("model.path", ..., "mode", ..., "parallel.resident_layers").
std::span<const std::string> job_config_keys();

bool operator==(const JobConfig& a, const JobConfig& b);

}  // namespace llmbatch
