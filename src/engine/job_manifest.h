// OUT_DIR/job.json: what a job's committed rows depend on, written when the
// job first starts. A rerun compares its own manifest with the stored one:
// equal means the journal's units may be trusted and skipped (resume);
// any difference (model, tokenizer, sampling, mode, inputs, output fields,
// max_model_len) refuses to resume, naming what changed, unless --restart.
//
// Hashes are FNV-1a 64 over: config.json, generation_config.json, and each
// safetensors file's name, size and first 64 KiB (its header, which lists
// every tensor's dtype, shape and offsets: cheap even for 100 GB of weights;
// a weight edited in place without a header change is not detected);
// tokenizer.json, tokenizer_config.json and the chat template file in full.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "io/job_config.h"

namespace llmbatch {

struct JobManifest {
  int64_t created_at = 0;  // Unix seconds; also the chat template's fixed "now"
  // Name -> value of everything rows depend on ("model", "tokenizer",
  // "sampling", "mode", "inputs", "output", "max_model_len", ...).
  std::map<std::string, std::string> fingerprint;
};

// FNV-1a 64 of `files` in order (a missing file hashes as its absence), as hex.
std::string hash_files(const std::vector<std::string>& files, uint64_t max_bytes_per_file = UINT64_MAX);
// The model directory's hash as described above.
std::string hash_model_dir(const std::string& model_dir);

// The manifest of `config` with the input fingerprint and effective
// max_model_len the runner determined.
JobManifest make_job_manifest(const JobConfig& config, const std::string& input_fingerprint,
                              int64_t max_model_len, int64_t created_at);

std::optional<JobManifest> read_job_manifest(const std::string& out_dir);  // IoError if unreadable
void write_job_manifest(const std::string& out_dir, const JobManifest& manifest);  // atomically

// Names of the fingerprint entries that differ (in either direction).
std::vector<std::string> manifest_differences(const JobManifest& stored, const JobManifest& current);

}  // namespace llmbatch
