// The job runner's small parts: the resume manifest, progress lines, stop
// signals, the automatic KV size.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "engine/job_manifest.h"
#include "engine/job_plan.h"
#include "engine/job_progress.h"
#include "engine/stop_signals.h"
#include "io/job_status.h"

namespace llmbatch {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / ("llmbatch_job_files_" + std::to_string(::getpid()) + "_" +
                                                 std::to_string(counter_++))) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string str() const { return path_.string(); }
  std::string file(const std::string& name, const std::string& content) const {
    std::ofstream(path_ / name) << content;
    return (path_ / name).string();
  }

 private:
  fs::path path_;
  static inline int counter_ = 0;
};

TEST(JobManifest, HashesChangeWithContentAndTheModelHeaderOnly) {
  TempDir dir;
  const auto a = dir.file("a.json", "{\"x\": 1}");
  const std::string h1 = hash_files({a});
  EXPECT_EQ(h1, hash_files({a}));
  dir.file("a.json", "{\"x\": 2}");
  EXPECT_NE(h1, hash_files({a}));
  EXPECT_NE(hash_files({a, dir.str() + "/missing"}), hash_files({a}));

  dir.file("config.json", "{}");
  dir.file("model.safetensors", std::string(70000, 'a'));
  const std::string m1 = hash_model_dir(dir.str());
  // A change beyond the first 64 KiB of the weights is not seen (documented) ...
  dir.file("model.safetensors", std::string(69999, 'a') + "b");
  EXPECT_EQ(m1, hash_model_dir(dir.str()));
  // ... one in the header or the config is.
  dir.file("model.safetensors", "b" + std::string(69999, 'a'));
  EXPECT_NE(m1, hash_model_dir(dir.str()));
}

TEST(JobManifest, RoundTripsAndNamesDifferences) {
  TempDir dir;
  EXPECT_FALSE(read_job_manifest(dir.str()));
  JobManifest m{.created_at = 1764100000, .fingerprint = {{"model", "aa"}, {"sampling", "{}"}}};
  write_job_manifest(dir.str(), m);
  const auto back = read_job_manifest(dir.str());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->created_at, m.created_at);
  EXPECT_EQ(back->fingerprint, m.fingerprint);
  EXPECT_TRUE(manifest_differences(m, *back).empty());
  JobManifest changed = m;
  changed.fingerprint["sampling"] = "{\"seed\":1}";
  changed.fingerprint["inputs"] = "ff";
  EXPECT_EQ(manifest_differences(m, changed), (std::vector<std::string>{"inputs", "sampling"}));
  dir.file("job.json", "not json");
  EXPECT_THROW(read_job_manifest(dir.str()), IoError);
}

TEST(JobManifest, MakeCoversWhatRowsDependOn) {
  TempDir dir;
  JobConfig config;
  config.model.path = dir.str();
  const JobManifest a = make_job_manifest(config, "inputs-1", 2048, 5);
  EXPECT_EQ(a.created_at, 5);
  for (const char* key : {"model", "tokenizer", "sampling", "mode", "inputs", "max_model_len", "kv_dtype"}) {
    EXPECT_TRUE(a.fingerprint.contains(key)) << key;
  }
  config.sampling.seed = 9;
  EXPECT_EQ(manifest_differences(a, make_job_manifest(config, "inputs-1", 2048, 5)), std::vector<std::string>{"sampling"});
  EXPECT_EQ(manifest_differences(a, make_job_manifest(JobConfig{.model = {.path = dir.str()}}, "inputs-2", 2048, 5)),
            std::vector<std::string>{"inputs"});
}

TEST(JobProgress, FormatsDurationsAndWritesStatus) {
  EXPECT_EQ(format_duration(42.4), "42s");
  EXPECT_EQ(format_duration(1100), "18m20s");
  EXPECT_EQ(format_duration(3720), "1h02m");
  EXPECT_EQ(format_duration(-5), "0s");

  TempDir dir;
  JobProgress progress(dir.str(), 100, 10, 1000.0);
  progress.record_done(true);
  progress.record_done(false);
  progress.update(500, 200, 0.25);  // within the interval: nothing written
  EXPECT_FALSE(read_job_status(dir.str()));
  progress.update(500, 200, 0.25, true);
  const auto status = read_job_status(dir.str());
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, JobState::kRunning);
  EXPECT_EQ(status->records_done, 12);
  EXPECT_EQ(status->records_ok, 1);
  EXPECT_EQ(status->records_error, 1);
  EXPECT_EQ(status->generated_tokens, 200);
  EXPECT_DOUBLE_EQ(status->kv_usage, 0.25);
  ASSERT_TRUE(status->eta_s);  // 88 left at 2 per elapsed
  EXPECT_GT(*status->eta_s, 0.0);
  EXPECT_NE(progress.line().find("records 12/100 (12.0%)"), std::string::npos) << progress.line();
  progress.finish(JobState::kFinished);
  EXPECT_EQ(read_job_status(dir.str())->state, JobState::kFinished);
}

TEST(StopSignals, TermAndUsr1RequestAStop) {
  for (int sig : {SIGTERM, SIGUSR1, SIGINT}) {
    install_stop_signals();
    EXPECT_FALSE(stop_requested());
    std::raise(sig);
    EXPECT_TRUE(stop_requested());
    EXPECT_EQ(stop_signal(), sig);
  }
  install_stop_signals();
  EXPECT_FALSE(stop_requested());
}

TEST(JobPlan, AutoKvSizeIsBounded) {
  EXPECT_GE(auto_kv_cache_bytes(0), 256ull << 20);
  EXPECT_LE(auto_kv_cache_bytes(0), 4ull << 30);
  EXPECT_EQ(auto_kv_cache_bytes(1ull << 50), 256ull << 20);  // no memory left: the floor
}

}  // namespace
}  // namespace llmbatch
