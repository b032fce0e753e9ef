// Loading a job config: the defaults, every key from a file and from --set
// alike, how sections merge and nulls reset, and the print-config round trip.
#include "io/job_config.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <set>

#include <nlohmann/json.hpp>

#include "job_config_test_util.h"

namespace llmbatch {
namespace {

using test::JobFile;
using test::load_text;
using test::required_sets;

TEST(JobConfigTest, DefaultsAreTheDocumentedOnes) {
  const JobConfig c = load_job_config(std::nullopt, required_sets());
  EXPECT_EQ(c.model.path, "/models/m");
  EXPECT_EQ(c.model.tokenizer, "/models/m");  // defaults to model.path
  EXPECT_EQ(c.model.chat_template, "");
  EXPECT_EQ(c.model.dtype, std::nullopt);
  EXPECT_EQ(c.model.max_model_len, 0);
  EXPECT_EQ(c.input.paths, std::vector<std::string>{"in.jsonl"});
  EXPECT_EQ(c.input.format, InputFormat::kJsonl);
  EXPECT_EQ(c.input.field, "prompt");
  EXPECT_EQ(c.input.truncate, TruncateSide::kNone);
  EXPECT_EQ(c.input.records_per_unit, 64);
  EXPECT_EQ(c.input.max_record_bytes, 16u * 1024 * 1024);
  EXPECT_EQ(c.mode, JobMode::kGenerate);
  EXPECT_EQ(c.output.dir, "/out");
  EXPECT_EQ(c.output.checkpoint_interval_s, 60.0);
  EXPECT_EQ(c.output.checkpoint_records, 0);
  EXPECT_TRUE(c.output.text);
  EXPECT_TRUE(c.output.token_ids);
  EXPECT_EQ(c.output.progress_interval_s, 30.0);
  EXPECT_EQ(c.engine.backend, BackendKind::kAuto);
  EXPECT_EQ(c.engine.kv_cache_memory, std::nullopt);
  EXPECT_EQ(c.engine.kv_dtype, DType::BF16);
  EXPECT_EQ(c.engine.block_size, 16);
  EXPECT_EQ(c.engine.max_num_seqs, 256);
  EXPECT_EQ(c.engine.max_num_batched_tokens, 2048);
  EXPECT_TRUE(c.engine.prefix_caching);
  EXPECT_EQ(c.engine.threads, std::nullopt);
  EXPECT_EQ(c.engine.scheduler, SchedulerKind::kContinuous);
  EXPECT_EQ(c.parallel.zero_group_size, 1);
  EXPECT_EQ(c.parallel.resident_layers, std::nullopt);
  EXPECT_EQ(sampling_params_to_json(c.sampling), sampling_params_to_json(SamplingParams{}));
}

TEST(JobConfigTest, KeysAreListedInDocumentOrder) {
  const std::vector<std::string> expected = {
      "model.path", "model.tokenizer", "model.chat_template", "model.dtype",
      "model.max_model_len", "input.paths", "input.format", "input.field", "input.truncate",
      "input.records_per_unit", "input.max_record_bytes", "mode", "output.dir",
      "output.checkpoint_interval_s", "output.checkpoint_records", "output.text",
      "output.token_ids", "output.progress_interval_s", "engine.backend",
      "engine.kv_cache_memory", "engine.kv_dtype", "engine.block_size", "engine.max_num_seqs",
      "engine.max_num_batched_tokens", "engine.prefix_caching", "engine.threads",
      "engine.scheduler", "parallel.zero_group_size", "parallel.resident_layers"};
  const auto keys = job_config_keys();
  EXPECT_EQ(std::vector<std::string>(keys.begin(), keys.end()), expected);
}

// One non-default value per key, as YAML text, and what it must set.
struct KeyCase {
  std::string key;
  std::string value;
  std::function<bool(const JobConfig&)> holds;
};

std::vector<KeyCase> key_cases() {
  using Bias = std::vector<std::pair<TokenId, float>>;
  return {
      {"model.path", "/m", [](auto& c) { return c.model.path == "/m"; }},
      {"model.tokenizer", "/t", [](auto& c) { return c.model.tokenizer == "/t"; }},
      {"model.chat_template", "chat.jinja",
       [](auto& c) { return c.model.chat_template == "chat.jinja"; }},
      {"model.dtype", "f32", [](auto& c) { return c.model.dtype == DType::F32; }},
      {"model.max_model_len", "8192", [](auto& c) { return c.model.max_model_len == 8192; }},
      {"input.paths", "[a.jsonl, 'b/*.jsonl.gz']",
       [](auto& c) { return c.input.paths == std::vector<std::string>{"a.jsonl", "b/*.jsonl.gz"}; }},
      {"input.format", "openai-batch",
       [](auto& c) { return c.input.format == InputFormat::kOpenAiBatch; }},
      {"input.field", "text", [](auto& c) { return c.input.field == "text"; }},
      {"input.truncate", "left", [](auto& c) { return c.input.truncate == TruncateSide::kLeft; }},
      {"input.records_per_unit", "17", [](auto& c) { return c.input.records_per_unit == 17; }},
      {"input.max_record_bytes", "1MiB",
       [](auto& c) { return c.input.max_record_bytes == 1048576u; }},
      {"mode", "score", [](auto& c) { return c.mode == JobMode::kScore; }},
      {"output.dir", "/o", [](auto& c) { return c.output.dir == "/o"; }},
      {"output.checkpoint_interval_s", "0.5",
       [](auto& c) { return c.output.checkpoint_interval_s == 0.5; }},
      {"output.checkpoint_records", "1000",
       [](auto& c) { return c.output.checkpoint_records == 1000; }},
      {"output.text", "false", [](auto& c) { return !c.output.text; }},
      {"output.token_ids", "False", [](auto& c) { return !c.output.token_ids; }},
      {"output.progress_interval_s", "5",
       [](auto& c) { return c.output.progress_interval_s == 5.0; }},
      {"engine.backend", "cpu", [](auto& c) { return c.engine.backend == BackendKind::kCpu; }},
      {"engine.kv_cache_memory", "4GiB",
       [](auto& c) { return c.engine.kv_cache_memory == uint64_t{4} << 30; }},
      {"engine.kv_dtype", "f32", [](auto& c) { return c.engine.kv_dtype == DType::F32; }},
      {"engine.block_size", "32", [](auto& c) { return c.engine.block_size == 32; }},
      {"engine.max_num_seqs", "97", [](auto& c) { return c.engine.max_num_seqs == 97; }},
      {"engine.max_num_batched_tokens", "4096",
       [](auto& c) { return c.engine.max_num_batched_tokens == 4096; }},
      {"engine.prefix_caching", "false", [](auto& c) { return !c.engine.prefix_caching; }},
      {"engine.threads", "3", [](auto& c) { return c.engine.threads == 3; }},
      {"engine.scheduler", "static",
       [](auto& c) { return c.engine.scheduler == SchedulerKind::kStatic; }},
      {"parallel.zero_group_size", "4", [](auto& c) { return c.parallel.zero_group_size == 4; }},
      {"parallel.resident_layers", "0", [](auto& c) { return c.parallel.resident_layers == 0; }},
      {"sampling.temperature", "0.7", [](auto& c) { return c.sampling.temperature == 0.7; }},
      {"sampling.top_k", "40", [](auto& c) { return c.sampling.top_k == 40; }},
      {"sampling.top_p", "0.9", [](auto& c) { return c.sampling.top_p == 0.9; }},
      {"sampling.min_p", "0.05", [](auto& c) { return c.sampling.min_p == 0.05; }},
      {"sampling.repetition_penalty", "1.1",
       [](auto& c) { return c.sampling.repetition_penalty == 1.1; }},
      {"sampling.presence_penalty", "0.5",
       [](auto& c) { return c.sampling.presence_penalty == 0.5; }},
      {"sampling.frequency_penalty", "-0.5",
       [](auto& c) { return c.sampling.frequency_penalty == -0.5; }},
      {"sampling.logit_bias", "{50256: -100, 13: 2.5}",
       [](auto& c) {
         Bias bias = c.sampling.logit_bias;
         std::sort(bias.begin(), bias.end());
         return bias == Bias{{13, 2.5f}, {50256, -100.0f}};
       }},
      {"sampling.max_tokens", "64", [](auto& c) { return c.sampling.max_tokens == 64; }},
      {"sampling.min_tokens", "2", [](auto& c) { return c.sampling.min_tokens == 2; }},
      {"sampling.stop_token_ids", "[2, 32000]",
       [](auto& c) { return c.sampling.stop_token_ids == std::vector<TokenId>{2, 32000}; }},
      // A double-quoted YAML scalar turns \n into a newline.
      {"sampling.stop", R"(["\n\n", "###", "42", "true"])",
       [](auto& c) {
         return c.sampling.stop == std::vector<std::string>{"\n\n", "###", "42", "true"};
       }},
      {"sampling.include_stop_str", "true", [](auto& c) { return c.sampling.include_stop_str; }},
      {"sampling.ignore_eos", "true", [](auto& c) { return c.sampling.ignore_eos; }},
      {"sampling.n", "3", [](auto& c) { return c.sampling.n == 3; }},
      {"sampling.seed", "18446744073709551615",
       [](auto& c) { return c.sampling.seed == UINT64_MAX; }},
      {"sampling.logprobs", "5", [](auto& c) { return c.sampling.logprobs == 5; }},
      {"sampling.skip_special_tokens", "false",
       [](auto& c) { return !c.sampling.skip_special_tokens; }},
  };
}

// "a.b" = v as a job file: "a:\n  b: v\n"; a top-level key on one line.
std::string as_yaml(const std::string& key, const std::string& value) {
  const size_t dot = key.find('.');
  if (dot == std::string::npos) return key + ": " + value + "\n";
  return key.substr(0, dot) + ":\n  " + key.substr(dot + 1) + ": " + value + "\n";
}

// The required keys except `key`, so a case for a required key is not
// overridden by its filler.
std::vector<std::string> required_sets_except(const std::string& key) {
  std::vector<std::string> sets;
  for (const std::string& set : required_sets()) {
    if (!set.starts_with(key + "=")) sets.push_back(set);
  }
  return sets;
}

TEST(JobConfigTest, EveryKeyIsSettableFromAFileAndFromSetAlike) {
  std::set<std::string> covered;
  for (const KeyCase& kc : key_cases()) {
    SCOPED_TRACE(kc.key + " = " + kc.value);
    covered.insert(kc.key);
    std::vector<std::string> sets = required_sets_except(kc.key);
    const JobConfig from_file = load_text(as_yaml(kc.key, kc.value), sets);
    sets.push_back(kc.key + "=" + kc.value);
    const JobConfig from_set = load_job_config(std::nullopt, sets);
    EXPECT_TRUE(kc.holds(from_file));
    EXPECT_TRUE(kc.holds(from_set));
    EXPECT_TRUE(from_file == from_set);
    EXPECT_FALSE(kc.holds(load_job_config(std::nullopt, required_sets())))
        << "the case value is the default, so the test shows nothing";
  }
  // Every key, so a key added without a case fails here.
  for (const std::string& key : job_config_keys()) EXPECT_TRUE(covered.count(key)) << key;
  const nlohmann::json sampling_defaults = sampling_params_to_json(SamplingParams{});
  for (const auto& [name, value] : sampling_defaults.items()) {
    EXPECT_TRUE(covered.count("sampling." + name)) << name;
  }
}

TEST(JobConfigTest, SetOverridesTheFileAndLaterSetsWin) {
  const JobConfig c = load_text(
      "model: {path: /a}\ninput: {paths: [x.jsonl]}\noutput: {dir: /o}\n"
      "engine:\n  block_size: 8\n  max_num_seqs: 4\n",
      {"engine.block_size=32", "engine.block_size=64"});
  EXPECT_EQ(c.engine.block_size, 64);
  EXPECT_EQ(c.engine.max_num_seqs, 4);  // the rest of the section stays
}

TEST(JobConfigTest, ASectionSetAsAFlowMapMergesKeyByKey) {
  std::vector<std::string> sets = required_sets();
  sets.push_back("engine.threads=2");
  sets.push_back("engine={block_size: 32, kv_cache_memory: 512MiB}");
  sets.push_back("sampling={temperature: 0, stop: [END]}");
  const JobConfig c = load_job_config(std::nullopt, sets);
  EXPECT_EQ(c.engine.threads, 2);
  EXPECT_EQ(c.engine.block_size, 32);
  EXPECT_EQ(c.engine.kv_cache_memory, uint64_t{512} << 20);
  EXPECT_EQ(c.sampling.temperature, 0.0);
  EXPECT_EQ(c.sampling.stop, std::vector<std::string>{"END"});
}

TEST(JobConfigTest, NullResetsAKeyOrASectionToItsDefaults) {
  const std::string yaml =
      "model: {path: /a, chat_template: t.jinja}\ninput: {paths: [x]}\noutput: {dir: /o}\n"
      "engine: {block_size: 8, threads: 4}\nsampling: {temperature: 0.5, n: 2}\n";
  const JobConfig key_reset =
      load_text(yaml, {"engine.block_size=", "model.chat_template=~", "sampling.n=null"});
  EXPECT_EQ(key_reset.engine.block_size, 16);
  EXPECT_EQ(key_reset.engine.threads, 4);
  EXPECT_EQ(key_reset.model.chat_template, "");
  EXPECT_EQ(key_reset.sampling.n, 1);
  EXPECT_EQ(key_reset.sampling.temperature, 0.5);

  const JobConfig section_reset = load_text(yaml, {"engine=", "sampling=~"});
  EXPECT_EQ(section_reset.engine.block_size, 16);
  EXPECT_EQ(section_reset.engine.threads, std::nullopt);
  EXPECT_EQ(section_reset.sampling.temperature, 1.0);
  EXPECT_EQ(section_reset.sampling.n, 1);
}

TEST(JobConfigTest, AutoValuesAndSingleStringPaths) {
  const JobConfig c = load_text(
      "model: {path: /a, dtype: auto}\ninput: {paths: 'data/*.jsonl'}\noutput: {dir: /o}\n"
      "engine: {kv_cache_memory: auto, threads: auto}\nparallel: {resident_layers: auto}\n");
  EXPECT_EQ(c.input.paths, std::vector<std::string>{"data/*.jsonl"});
  EXPECT_EQ(c.model.dtype, std::nullopt);
  EXPECT_EQ(c.engine.kv_cache_memory, std::nullopt);
  EXPECT_EQ(c.engine.threads, std::nullopt);
  EXPECT_EQ(c.parallel.resident_layers, std::nullopt);
}

TEST(JobConfigTest, TokenizerDefaultFollowsTheFinalModelPath) {
  const JobConfig c = load_text("model: {path: /a}\ninput: {paths: [x]}\noutput: {dir: /o}\n",
                                {"model.path=/b"});
  EXPECT_EQ(c.model.tokenizer, "/b");
  const JobConfig own = load_text("model: {path: /a, tokenizer: /t}\n", {"input.paths=x", "output.dir=o"});
  EXPECT_EQ(own.model.tokenizer, "/t");
}

TEST(JobConfigTest, AnEmptyFileIsAllDefaults) {
  const JobConfig c = load_text("# nothing here\n", required_sets());
  EXPECT_TRUE(c == load_job_config(std::nullopt, required_sets()));
}

// A config with every key away from its default.
JobConfig everything_changed() {
  std::vector<std::string> sets;
  for (const KeyCase& kc : key_cases()) sets.push_back(kc.key + "=" + kc.value);
  return load_job_config(std::nullopt, sets);
}

TEST(JobConfigTest, PrintedConfigLoadsBackEqual) {
  for (const JobConfig& config :
       {load_job_config(std::nullopt, required_sets()), everything_changed()}) {
    const std::string yaml = job_config_to_yaml(config);
    SCOPED_TRACE(yaml);
    const JobConfig back = load_text(yaml);
    EXPECT_TRUE(back == config);
    EXPECT_EQ(job_config_to_yaml(back), yaml);
  }
}

TEST(JobConfigTest, PrintedConfigKeepsStringsThatLookLikeOtherTypes) {
  std::vector<std::string> sets = required_sets();
  for (const char* path : {"'true'", "'~'", "'123'", "'1e5'", "'null'", "': colon'", "'# hash'",
                           "\"two\\nlines\"", "'[x]'", "'  spaced  '", "'üñí'"}) {
    std::vector<std::string> with = sets;
    with.push_back(std::string("model.path=") + path);
    with.push_back(std::string("input.field=") + path);
    with.push_back(std::string("sampling.stop=[") + path + "]");
    const JobConfig config = load_job_config(std::nullopt, with);
    const std::string yaml = job_config_to_yaml(config);
    SCOPED_TRACE(yaml);
    EXPECT_TRUE(load_text(yaml) == config);
  }
}

TEST(JobConfigTest, PrintedConfigHasEveryKey) {
  const YAML::Node doc = YAML::Load(job_config_to_yaml(everything_changed()));
  for (const std::string& key : job_config_keys()) {
    const size_t dot = key.find('.');
    const YAML::Node node =
        dot == std::string::npos ? doc[key] : doc[key.substr(0, dot)][key.substr(dot + 1)];
    EXPECT_TRUE(node.IsDefined() && !node.IsNull()) << key;
  }
  const nlohmann::json sampling_defaults = sampling_params_to_json(SamplingParams{});
  for (const auto& [name, value] : sampling_defaults.items()) {
    EXPECT_TRUE(doc["sampling"][name].IsDefined()) << name;
  }
  EXPECT_EQ(doc["engine"]["kv_cache_memory"].Scalar(), "4GiB");  // stays readable
  EXPECT_EQ(doc["input"]["max_record_bytes"].Scalar(), "1MiB");
}

TEST(JobConfigTest, EqualityComparesEverySection) {
  const JobConfig base = load_job_config(std::nullopt, required_sets());
  EXPECT_TRUE(base == base);
  JobConfig other = base;
  other.sampling.seed = 7;
  EXPECT_FALSE(base == other);
  other = base;
  other.parallel.zero_group_size = 2;
  EXPECT_FALSE(base == other);
}

}  // namespace
}  // namespace llmbatch
