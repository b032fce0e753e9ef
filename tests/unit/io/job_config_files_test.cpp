// The job files in the repository: every bad job under
// tests/fixtures/jobs/bad/ fails with the message its first line promises,
// the examples in jobs/ load, and docs/jobs.md documents every key with its
// true default.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "io/job_config.h"
#include "job_config_test_util.h"

namespace llmbatch {
namespace {

namespace fs = std::filesystem;
using test::required_sets;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(JobFilesTest, EveryBadJobFailsWithItsExpectedMessage) {
  const fs::path dir = fs::path(LLMBATCH_FIXTURES_DIR) / "jobs" / "bad";
  int count = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    ++count;
    SCOPED_TRACE(entry.path().filename().string());
    std::string first_line;
    std::getline(std::ifstream(entry.path()), first_line);
    const std::string prefix = "# expect: ";
    ASSERT_TRUE(first_line.starts_with(prefix)) << "first line: " << first_line;
    const std::string expected = first_line.substr(prefix.size());
    try {
      load_job_config(entry.path().string(), {});
      ADD_FAILURE() << "loaded without an error";
    } catch (const ConfigError& e) {
      EXPECT_CONTAINS(e.what(), expected);
    }
  }
  EXPECT_GE(count, 15);
}

TEST(JobFilesTest, ExampleJobsLoad) {
  const fs::path jobs = fs::path(LLMBATCH_SOURCE_DIR) / "jobs";
  const JobConfig demo = load_job_config((jobs / "demo.yaml").string(), {});
  EXPECT_EQ(demo.mode, JobMode::kGenerate);
  EXPECT_EQ(demo.model.path, "/tmp/llmbatch-demo/model");
  EXPECT_EQ(demo.input.paths, std::vector<std::string>{"jobs/data/demo.jsonl"});

  const JobConfig score = load_job_config((jobs / "score.yaml").string(), {});
  EXPECT_EQ(score.mode, JobMode::kScore);
  EXPECT_EQ(score.input.format, InputFormat::kJsonl);

  const JobConfig nightly = load_job_config((jobs / "nightly-gen.yaml").string(), {});
  EXPECT_EQ(nightly.mode, JobMode::kGenerate);
  EXPECT_GT(nightly.sampling.n, 1);
  EXPECT_FALSE(nightly.sampling.stop.empty());
  EXPECT_NE(nightly.sampling.seed, 0u);

  const JobConfig pretokenized =
      load_job_config((jobs / "score-pretokenized.yaml").string(), {});
  EXPECT_EQ(pretokenized.mode, JobMode::kScore);
  EXPECT_EQ(pretokenized.input.format, InputFormat::kHdf5Tokens);
}

// Rows of docs/jobs.md's key tables: | `section.key` | type | default | meaning |
struct DocRow {
  std::string key;
  std::string default_cell;
};

std::vector<DocRow> doc_rows() {
  std::vector<DocRow> rows;
  std::istringstream doc(read_text(fs::path(LLMBATCH_SOURCE_DIR) / "docs" / "jobs.md"));
  const std::regex row(R"(^\| `([a-z_.]+)` \|[^|]*\| ([^|]*) \|)");
  std::smatch m;
  for (std::string line; std::getline(doc, line);) {
    if (std::regex_search(line, m, row)) rows.push_back({m[1], m[2]});
  }
  return rows;
}

TEST(JobFilesTest, DocsDocumentEveryKey) {
  std::set<std::string> documented;
  for (const DocRow& row : doc_rows()) documented.insert(row.key);
  for (const std::string& key : job_config_keys()) EXPECT_TRUE(documented.count(key)) << key;
  const nlohmann::json sampling_defaults = sampling_params_to_json(SamplingParams{});
  for (const auto& [name, value] : sampling_defaults.items()) {
    EXPECT_TRUE(documented.count("sampling." + name)) << name;
  }
}

// A default written as a value (`16`, `auto`, `[]`) must be the default:
// setting it explicitly changes nothing.
TEST(JobFilesTest, DocumentedDefaultsAreTheDefaults) {
  const JobConfig defaults = load_job_config(std::nullopt, required_sets());
  int checked = 0;
  for (const DocRow& row : doc_rows()) {
    const std::regex value(R"(^`([^`]*)`$)");
    std::smatch m;
    if (!std::regex_match(row.default_cell, m, value)) continue;
    SCOPED_TRACE(row.key + " = " + m[1].str());
    std::vector<std::string> sets = required_sets();
    sets.push_back(row.key + "=" + m[1].str());
    EXPECT_TRUE(load_job_config(std::nullopt, sets) == defaults);
    ++checked;
  }
  EXPECT_GE(checked, 40);
}

}  // namespace
}  // namespace llmbatch
