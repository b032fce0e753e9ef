// `llmbatch model random` and `llmbatch inspect`.
#include <cstdio>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/units.h"
#include "model/model_dir.h"
#include "model/model_summary.h"
#include "model/random_model.h"
#include "tokenizer/tokenizer.h"

namespace llmbatch::cli {
namespace {

struct RandomArgs {
  std::string preset = "tiny";
  std::string dtype = "bf16";
  uint64_t seed = 0;
  std::string out;
  std::string shard_size;
  std::string arch;
  int64_t num_kv_heads = 0;
  double init_std = 0.02;
  std::string tokenizer;
};

namespace fs = std::filesystem;

// A random model that can run text: the vocabulary is resized to the
// tokenizer's, BOS/EOS come from its tokenizer_config.json, and the files
// are copied beside the weights (done after writing, into the new dir).
struct TokenizerFiles {
  fs::path json, config;  // config may be empty
};

TokenizerFiles adopt_tokenizer(const std::string& path, ModelConfig& config) {
  const auto tok = tokenizer::Tokenizer::load(path);
  config.vocab_size = static_cast<int64_t>(tok.vocab_size());
  const auto id_of = [&](const std::optional<std::string>& text) -> std::optional<int64_t> {
    if (!text) return std::nullopt;
    const auto id = tok.token_to_id(*text);
    return id ? std::optional<int64_t>(*id) : std::nullopt;
  };
  config.bos_token_id = id_of(tok.bos_token());
  config.eos_token_ids.clear();
  if (const auto eos = id_of(tok.eos_token())) config.eos_token_ids.push_back(*eos);
  const fs::path dir = fs::is_directory(path) ? fs::path(path) : fs::path(path).parent_path();
  TokenizerFiles files{fs::is_directory(path) ? dir / "tokenizer.json" : fs::path(path), {}};
  if (fs::exists(dir / "tokenizer_config.json")) files.config = dir / "tokenizer_config.json";
  return files;
}

int run_model_random(const RandomArgs& a) {
  RandomModelOptions o;
  o.config = random_preset_config(a.preset);
  if (!dtype_parse(a.dtype, &o.config.torch_dtype)) {
    throw ConfigError("unknown dtype '" + a.dtype + "'", {.key = "--dtype"}, "use f32, f16 or bf16");
  }
  if (a.arch == "qwen2") {
    o.config.architecture = Architecture::Qwen2;
    o.config.qkv_bias = true;
  } else if (a.arch == "mistral") {
    o.config.architecture = Architecture::Mistral;
  } else if (!a.arch.empty() && a.arch != "llama") {
    throw ConfigError("unknown architecture '" + a.arch + "'", {.key = "--arch"}, "use llama, mistral or qwen2");
  }
  if (a.num_kv_heads > 0) {
    if (o.config.num_attention_heads % a.num_kv_heads != 0) {
      throw ConfigError("--num-kv-heads must divide the preset's " +
                            std::to_string(o.config.num_attention_heads) + " attention heads",
                        {.key = "--num-kv-heads"});
    }
    o.config.num_key_value_heads = a.num_kv_heads;
  }
  o.seed = a.seed;
  o.init_std = a.init_std;
  if (!a.shard_size.empty()) o.shard_size = parse_byte_size(a.shard_size, "--shard-size");
  const auto files = a.tokenizer.empty() ? TokenizerFiles{} : adopt_tokenizer(a.tokenizer, o.config);
  random_model_write(o, a.out);
  if (!files.json.empty()) {
    fs::copy_file(files.json, fs::path(a.out) / "tokenizer.json");
    if (!files.config.empty()) fs::copy_file(files.config, fs::path(a.out) / "tokenizer_config.json");
  }
  std::printf("wrote %s model (%s, seed %llu) to %s\n", a.preset.c_str(),
              std::string(dtype_name(o.config.torch_dtype)).c_str(), static_cast<unsigned long long>(a.seed),
              a.out.c_str());
  return 0;
}

std::string with_commas(uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

int run_inspect(const std::string& dir, bool as_json) {
  const ModelDir model = model_dir_open(dir);
  const ModelSummary s = model_summary(model);
  const ModelConfig& c = model.config;
  if (as_json) {
    nlohmann::json j = {{"path", dir},
                        {"architecture", architecture_name(c.architecture)},
                        {"config", model_config_to_json(c)},
                        {"parameters", s.parameters},
                        {"bytes_by_dtype", s.bytes_by_dtype},
                        {"stored_bytes", s.stored_bytes},
                        {"num_tensors", s.num_tensors},
                        {"num_files", s.num_files},
                        {"kv_bytes_per_token", {{"BF16", s.kv_bytes_per_token_bf16}, {"F32", s.kv_bytes_per_token_f32}}},
                        {"validation", "ok"}};
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("model         %s\n", dir.c_str());
  std::printf("architecture  %s\n", architecture_name(c.architecture).c_str());
  std::printf("shape         %lld layers, hidden %lld, intermediate %lld, vocab %lld\n",
              (long long)c.num_hidden_layers, (long long)c.hidden_size, (long long)c.intermediate_size,
              (long long)c.vocab_size);
  std::printf("attention     %lld heads, %lld KV heads, head_dim %lld%s%s\n", (long long)c.num_attention_heads,
              (long long)c.num_key_value_heads, (long long)c.head_dim, c.qkv_bias ? ", qkv bias" : "",
              c.o_bias ? ", o bias" : "");
  std::printf("rope          theta %g, scaling %s, max positions %lld\n", c.rope_theta,
              rope_scaling_name(c.rope_scaling.type).c_str(), (long long)c.max_position_embeddings);
  std::printf("parameters    %s%s\n", with_commas(s.parameters).c_str(),
              c.tie_word_embeddings ? " (tied embeddings counted once)" : "");
  for (const auto& [dtype, bytes] : s.bytes_by_dtype) {
    std::printf("weights       %s: %s bytes (%s)\n", dtype.c_str(), with_commas(bytes).c_str(),
                format_bytes(bytes).c_str());
  }
  std::printf("files         %zu safetensors file(s), %zu tensors\n", s.num_files, s.num_tensors);
  std::printf("KV per token  %s bytes in BF16, %s bytes in F32\n", with_commas(s.kv_bytes_per_token_bf16).c_str(),
              with_commas(s.kv_bytes_per_token_f32).c_str());
  std::printf("validation    ok\n");
  return 0;
}

}  // namespace

void add_model_commands(CLI::App& app, CommandAction& action) {
  auto* model = app.add_subcommand("model", "create models");
  model->require_subcommand(1);
  auto* random = model->add_subcommand("random", "write a random-weight Hugging Face model directory");
  auto args = std::make_shared<RandomArgs>();
  random->add_option("--preset", args->preset, "tiny|smollm135m|llama1b|llama8b")->capture_default_str();
  random->add_option("--dtype", args->dtype, "f32|f16|bf16")->capture_default_str();
  random->add_option("--seed", args->seed, "weights are a pure function of the seed")->capture_default_str();
  random->add_option("--out", args->out, "output directory (new or empty)")->required();
  random->add_option("--shard-size", args->shard_size, "split weights into shards of this size, e.g. 2GB");
  random->add_option("--arch", args->arch, "llama|mistral|qwen2 (qwen2 adds q/k/v biases)");
  random->add_option("--num-kv-heads", args->num_kv_heads, "override the preset's KV heads (1 = MQA)");
  random->add_option("--init-std", args->init_std, "weight standard deviation")->capture_default_str();
  random->add_option("--tokenizer", args->tokenizer,
                     "tokenizer.json or its directory: copied in; sets vocab size and BOS/EOS");
  random->callback([args, &action] { action = [args] { return run_model_random(*args); }; });

  auto* inspect = app.add_subcommand("inspect", "describe and validate a model directory");
  auto dir = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  inspect->add_option("dir", *dir, "Hugging Face model directory")->required();
  inspect->add_flag("--json", *as_json, "print JSON");
  inspect->callback([dir, as_json, &action] { action = [dir, as_json] { return run_inspect(*dir, *as_json); }; });
}

}  // namespace llmbatch::cli
