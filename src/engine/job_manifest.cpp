#include "engine/job_manifest.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "sampling/sampling_params.h"

namespace llmbatch {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kFnvOffset = 1469598103934665603ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;
constexpr uint64_t kHeaderBytes = 64 * 1024;

void fnv_update(uint64_t& h, const char* data, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= kFnvPrime;
  }
}

void fnv_update(uint64_t& h, const std::string& s) {
  fnv_update(h, s.data(), s.size());
  fnv_update(h, "\0", 1);
}

std::string hex(uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

void hash_file_into(uint64_t& h, const std::string& path, uint64_t max_bytes) {
  fnv_update(h, fs::path(path).filename().string());
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fnv_update(h, "<missing>");
    return;
  }
  std::error_code ec;
  fnv_update(h, std::to_string(fs::file_size(path, ec)));
  std::vector<char> buffer(1 << 16);
  uint64_t left = max_bytes;
  while (left > 0 && in) {
    in.read(buffer.data(), static_cast<std::streamsize>(std::min<uint64_t>(buffer.size(), left)));
    const auto got = static_cast<size_t>(in.gcount());
    fnv_update(h, buffer.data(), got);
    left -= got;
    if (got == 0) break;
  }
}

const char* mode_name(JobMode mode) { return mode == JobMode::kScore ? "score" : "generate"; }

}  // namespace

std::string hash_files(const std::vector<std::string>& files, uint64_t max_bytes_per_file) {
  uint64_t h = kFnvOffset;
  for (const auto& f : files) hash_file_into(h, f, max_bytes_per_file);
  return hex(h);
}

std::string hash_model_dir(const std::string& model_dir) {
  uint64_t h = kFnvOffset;
  const fs::path dir(model_dir);
  hash_file_into(h, (dir / "config.json").string(), UINT64_MAX);
  hash_file_into(h, (dir / "generation_config.json").string(), UINT64_MAX);
  std::vector<std::string> weights;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".safetensors") weights.push_back(entry.path().string());
  }
  std::sort(weights.begin(), weights.end());
  for (const auto& w : weights) hash_file_into(h, w, kHeaderBytes);
  return hex(h);
}

JobManifest make_job_manifest(const JobConfig& config, const std::string& input_fingerprint, int64_t max_model_len,
                              int64_t created_at) {
  JobManifest m;
  m.created_at = created_at;
  const fs::path tok(config.model.tokenizer.empty() ? config.model.path : config.model.tokenizer);
  m.fingerprint["model"] = hash_model_dir(config.model.path);
  m.fingerprint["model_dtype"] = config.model.dtype ? std::string(dtype_name(*config.model.dtype)) : "auto";
  m.fingerprint["tokenizer"] = hash_files({(tok / "tokenizer.json").string(), (tok / "tokenizer_config.json").string(),
                                           (tok / "chat_template.jinja").string(), config.model.chat_template});
  m.fingerprint["sampling"] = sampling_params_to_json(config.sampling).dump();
  m.fingerprint["mode"] = mode_name(config.mode);
  m.fingerprint["inputs"] = input_fingerprint;
  m.fingerprint["truncate"] = std::to_string(static_cast<int>(config.input.truncate));
  m.fingerprint["output"] = std::string(config.output.text ? "text" : "") + (config.output.token_ids ? "+token_ids" : "");
  m.fingerprint["max_model_len"] = std::to_string(max_model_len);
  m.fingerprint["kv_dtype"] = std::string(dtype_name(config.engine.kv_dtype));
  return m;
}

std::optional<JobManifest> read_job_manifest(const std::string& out_dir) {
  const fs::path path = fs::path(out_dir) / "job.json";
  std::ifstream in(path);
  if (!in) return std::nullopt;
  try {
    const auto j = nlohmann::json::parse(in);
    JobManifest m;
    m.created_at = j.at("created_at").get<int64_t>();
    m.fingerprint = j.at("fingerprint").get<std::map<std::string, std::string>>();
    return m;
  } catch (const nlohmann::json::exception& e) {
    throw IoError(std::string("not a job manifest: ") + e.what(), {.file = path.string()});
  }
}

void write_job_manifest(const std::string& out_dir, const JobManifest& manifest) {
  const fs::path path = fs::path(out_dir) / "job.json";
  const fs::path tmp = fs::path(out_dir) / "job.json.tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << nlohmann::json{{"created_at", manifest.created_at}, {"fingerprint", manifest.fingerprint}}.dump(1) << "\n";
    if (!out) throw IoError("cannot write the job manifest", {.file = tmp.string()});
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw IoError("cannot rename the job manifest: " + ec.message(), {.file = path.string()});
}

std::vector<std::string> manifest_differences(const JobManifest& stored, const JobManifest& current) {
  std::set<std::string> names;
  for (const auto& [k, v] : stored.fingerprint) names.insert(k);
  for (const auto& [k, v] : current.fingerprint) names.insert(k);
  std::vector<std::string> diff;
  for (const auto& name : names) {
    const auto a = stored.fingerprint.find(name), b = current.fingerprint.find(name);
    if (a == stored.fingerprint.end() || b == current.fingerprint.end() || a->second != b->second) diff.push_back(name);
  }
  return diff;
}

}  // namespace llmbatch
