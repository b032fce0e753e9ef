// What a wrong job file or --set flag says: the key path, the file and line
// (or the flag), what was expected, and the closest key for a misspelt one.
#include <gtest/gtest.h>

#include "io/job_config.h"
#include "job_config_test_util.h"

namespace llmbatch {
namespace {

using test::config_error_of;
using test::JobFile;
using test::required_sets;
using test::set_error;
using test::yaml_error;

// A job with the required keys, then `rest`; `rest` starts on line 4.
std::string job(const std::string& rest) {
  return "model: {path: /m}\ninput: {paths: [in.jsonl]}\noutput: {dir: /o}\n" + rest;
}

TEST(JobConfigErrorsTest, WrongValueNamesKeyFileLineAndColumn) {
  JobFile file(job("engine:\n  block_size: 24\n"));
  const ConfigError e = config_error_of([&] { load_job_config(file.path(), {}); });
  EXPECT_EQ(e.description(),
            "engine.block_size: expected a power of two between 1 and 65536, got 24 "
            "(line 5, column 15)");
  EXPECT_EQ(e.context().key, "engine.block_size");
  EXPECT_EQ(e.context().file, file.path());
  EXPECT_CONTAINS(e.what(), "file '" + file.path() + "'");
}

TEST(JobConfigErrorsTest, SameValueFromSetNamesTheFlag) {
  std::vector<std::string> sets = required_sets();
  sets.push_back("engine.block_size=24");
  const ConfigError e = set_error(sets);
  EXPECT_EQ(e.description(),
            "engine.block_size: expected a power of two between 1 and 65536, got 24 "
            "(from --set engine.block_size=24)");
  EXPECT_EQ(e.context().file, "");
}

TEST(JobConfigErrorsTest, UnknownKeySuggestsTheClosestKnownOne) {
  EXPECT_EQ(yaml_error(job("engine:\n  max_num_seq: 8\n")).description(),
            "unknown key engine.max_num_seq (did you mean engine.max_num_seqs?) (line 5, column 3)");
  // The same name in another section.
  EXPECT_EQ(yaml_error(job("engine: {seed: 1}\n")).description(),
            "unknown key engine.seed (did you mean sampling.seed?) (line 4, column 10)");
  EXPECT_EQ(yaml_error(job("sampeling: {n: 2}\n")).description(),
            "unknown key sampeling (did you mean sampling?) (line 4, column 1)");
  std::vector<std::string> sets = required_sets();
  sets.push_back("outptu.dir=/x");
  EXPECT_EQ(set_error(sets).description(),
            "unknown key outptu.dir (did you mean output.dir?) (from --set outptu.dir=/x)");
  // Nothing close: no guess, a pointer to the docs instead.
  const ConfigError far = yaml_error(job("engine: {flux_capacitor: 1}\n"));
  EXPECT_EQ(far.description(), "unknown key engine.flux_capacitor (line 4, column 10)");
  EXPECT_CONTAINS(far.what(), "docs/jobs.md");
  EXPECT_EQ(far.context().key, "engine.flux_capacitor");
}

TEST(JobConfigErrorsTest, WrongTypesSayWhatWasExpected) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"engine: {max_num_seqs: many}\n",
       "engine.max_num_seqs: expected an integer >= 1, got 'many'"},
      {"engine: {max_num_seqs: 2.5}\n", "engine.max_num_seqs: expected an integer >= 1, got 2.5"},
      {"engine: {prefix_caching: yes}\n",
       "engine.prefix_caching: expected true or false, got 'yes'"},
      {"model: {max_model_len: -1}\n", "model.max_model_len: expected an integer >= 0, got -1"},
      {"engine: {threads: 0}\n", "engine.threads: expected auto or an integer >= 1, got 0"},
      {"engine: {kv_cache_memory: 4 gigs}\n",
       "engine.kv_cache_memory: expected auto or a byte size such as 4GiB, 512MiB, 2GB or "
       "1000000, got '4 gigs'"},
      {"input: {max_record_bytes: 0}\n",
       "input.max_record_bytes: expected a byte size such as 4GiB, 512MiB, 2GB or 1000000, got 0"},
      {"output: {checkpoint_interval_s: -5}\n",
       "output.checkpoint_interval_s: expected a number of seconds > 0, got -5"},
      {"model: {dtype: fp16}\n", "model.dtype: expected auto or one of bf16, f32, got 'fp16'"},
      {"input: {format: csv}\n",
       "input.format: expected one of jsonl, openai-batch, text, hdf5-tokens, got 'csv'"},
      {"mode: [generate]\n", "mode: expected one of generate, score, got a sequence"},
      {"model: {chat_template: {file: x}}\n", "model.chat_template: expected a string, got a mapping"},
      {"input: {paths: [a, [b]]}\n",
       "input.paths: expected a list of non-empty strings, but item 2 is a sequence"},
      {"input: {paths: {a: b}}\n", "input.paths: expected a list of non-empty strings, got a mapping"},
      {"engine: cpu\n", "engine: expected a mapping of keys, got 'cpu'"},
      {"parallel: {zero_group_size: 0}\n",
       "parallel.zero_group_size: expected an integer >= 1, got 0"},
  };
  for (const auto& [yaml, message] : cases) {
    const std::string description = yaml_error(yaml, required_sets()).description();
    EXPECT_TRUE(description.starts_with(message)) << description << "\n  expected: " << message;
    EXPECT_CONTAINS(description, "(line 1, column");
  }
}

TEST(JobConfigErrorsTest, MisspeltValuesGetAHint) {
  EXPECT_CONTAINS(yaml_error("input: {format: openai_batch}\n", required_sets()).what(),
                  "did you mean openai-batch?");
  EXPECT_CONTAINS(yaml_error("mode: scor\n", required_sets()).what(), "did you mean score?");
  EXPECT_CONTAINS(yaml_error("output: {text: no}\n", required_sets()).what(), "yes, no, on, off");
}

TEST(JobConfigErrorsTest, SamplingErrorsKeepTheirKeyAndGainALine) {
  const ConfigError range = yaml_error(job("sampling:\n  n: 2\n  top_p: 1.5\n"));
  EXPECT_EQ(range.context().key, "sampling.top_p");
  EXPECT_CONTAINS(range.description(), "sampling.top_p");
  EXPECT_TRUE(range.description().ends_with("(line 6, column 10)")) << range.description();

  const ConfigError unknown = yaml_error(job("sampling:\n  temprature: 0\n"));
  EXPECT_CONTAINS(unknown.what(), "temperature");
  EXPECT_TRUE(unknown.description().ends_with("(line 5, column 15)")) << unknown.description();

  std::vector<std::string> sets = required_sets();
  sets.push_back("sampling.max_tokens=0");
  const ConfigError from_set = set_error(sets);
  EXPECT_EQ(from_set.context().key, "sampling.max_tokens");
  EXPECT_TRUE(from_set.description().ends_with("(from --set sampling.max_tokens=0)"));
}

TEST(JobConfigErrorsTest, MissingRequiredKeysAreAllNamed) {
  const ConfigError none = set_error({});
  EXPECT_EQ(none.description(), "missing required keys model.path, input.paths, output.dir");
  EXPECT_EQ(none.context().key, "model.path");
  const ConfigError one = yaml_error("model: {path: /m}\ninput: {paths: []}\n", {"output.dir=/o"});
  EXPECT_EQ(one.description(), "missing required key input.paths");
  EXPECT_CONTAINS(one.what(), "--set input.paths=");
}

TEST(JobConfigErrorsTest, MalformedYamlGivesLineAndColumn) {
  JobFile file("model:\n  path: /m\ninput: {paths: [a, b}\n");
  const ConfigError e = config_error_of([&] { load_job_config(file.path(), {}); });
  EXPECT_TRUE(e.description().starts_with("not valid YAML: ")) << e.description();
  EXPECT_CONTAINS(e.description(), "(line 3, column");
  EXPECT_EQ(e.context().file, file.path());

  const ConfigError tab = yaml_error("model:\n\tpath: /m\n");
  EXPECT_CONTAINS(tab.description(), "(line 2, column");
  EXPECT_CONTAINS(tab.what(), "line 2 is indented with a tab");
}

TEST(JobConfigErrorsTest, StructuralProblemsOfTheFile) {
  EXPECT_EQ(yaml_error(job("model: {path: /x}\n")).description(),
            "model: duplicate key (line 4, column 1)");
  EXPECT_EQ(yaml_error("model:\n  path: /a\n  path: /b\n").description(),
            "model.path: duplicate key (line 3, column 3)");
  EXPECT_TRUE(yaml_error("- model\n- input\n")
                  .description()
                  .starts_with("a job file is a mapping of sections"));
  EXPECT_TRUE(yaml_error(job("---\nmode: score\n"))
                  .description()
                  .starts_with("the job file holds 2 YAML documents; a job is one"));
  EXPECT_EQ(yaml_error(job("? [a, b]\n: 1\n")).description(),
            "a key must be a name, got a sequence (line 4, column 3)");
  EXPECT_EQ(yaml_error(job("engine: {[a]: 1}\n")).description(),
            "engine: a key must be a name, got a sequence (line 4, column 10)");
  EXPECT_CONTAINS(yaml_error(job("sampling: {stop: [a], stop: [b]}\n")).description(),
                  "sampling.stop: duplicate key");
  EXPECT_CONTAINS(yaml_error(job("sampling: [n, 2]\n")).description(),
                  "sampling: expected a mapping of sampling keys, got a sequence");
}

TEST(JobConfigErrorsTest, BadSetSyntax) {
  const ConfigError no_equals = set_error({"engine.block_size"});
  EXPECT_EQ(no_equals.description(), "--set expects KEY=VALUE, got 'engine.block_size'");
  EXPECT_EQ(set_error({"a..b=1"}).description(), "--set 'a..b=1': 'a..b' is not a key path");
  EXPECT_EQ(set_error({"=1"}).description(), "--set '=1': '' is not a key path");
  const ConfigError yaml = set_error({"input.paths=[a.jsonl, b.jsonl"});
  EXPECT_TRUE(yaml.description().starts_with("input.paths: the value is not valid YAML: "))
      << yaml.description();
  EXPECT_TRUE(yaml.description().ends_with("(from --set input.paths=[a.jsonl, b.jsonl)"));
  EXPECT_EQ(set_error({"model.path.dir=/x"}).description(),
            "unknown key model.path.dir (model.path takes a value, not keys) "
            "(from --set model.path.dir=/x)");
}

TEST(JobConfigErrorsTest, AMissingJobFileIsAnIoError) {
  try {
    load_job_config(std::string("/nonexistent/llmbatch/job.yaml"), required_sets());
    FAIL() << "no error";
  } catch (const IoError& e) {
    EXPECT_EQ(e.context().file, "/nonexistent/llmbatch/job.yaml");
    EXPECT_CONTAINS(e.what(), "No such file");
  }
}

}  // namespace
}  // namespace llmbatch
