#include "engine/job_plan.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "backend/backend.h"
#include "core/error.h"
#include "core/units.h"
#include "io/journal.h"
#include "kv/kv_config.h"

namespace llmbatch {
namespace {

namespace fs = std::filesystem;

uint64_t mem_available_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit) {
    if (key == "MemAvailable:") return kib * 1024;
  }
  return 8ull << 30;
}

uint64_t directory_weight_bytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".safetensors") total += e.file_size(ec);
  }
  return total;
}

void check_output_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw ConfigError("cannot create the output directory: " + ec.message(), {.file = dir, .key = "output.dir"});
  const fs::path probe = fs::path(dir) / ".llmbatch-write-test";
  {
    std::ofstream out(probe);
    out << "ok";
    if (!out) throw ConfigError("the output directory is not writable", {.file = dir, .key = "output.dir"});
  }
  fs::remove(probe, ec);
}

std::optional<ModelChatTemplate> load_template(const JobConfig& config, const std::string& tokenizer_dir) {
  if (config.model.chat_template.empty()) {
    try {
      return load_chat_template(tokenizer_dir);
    } catch (const ConfigError&) {
      return std::nullopt;  // no template: only message records need one, and they say so
    }
  }
  std::ifstream in(config.model.chat_template);
  if (!in) throw ConfigError("cannot read the chat template", {.file = config.model.chat_template, .key = "model.chat_template"});
  std::stringstream text;
  text << in.rdbuf();
  ModelChatTemplate chat{ChatTemplate::parse(text.str(), config.model.chat_template), std::nullopt,
                         nlohmann::ordered_json::object()};
  const fs::path tc_path = fs::path(tokenizer_dir) / "tokenizer_config.json";
  if (fs::exists(tc_path)) chat.special_tokens = chat_special_tokens(read_tokenizer_config(tc_path), tc_path.string());
  return chat;
}

}  // namespace

uint64_t auto_kv_cache_bytes(uint64_t weight_bytes) {
  const uint64_t available = mem_available_bytes();
  const uint64_t left = available > weight_bytes ? available - weight_bytes : 0;
  return std::clamp<uint64_t>(left / 4, 256ull << 20, 4ull << 30);
}

JobPlan plan_job(const JobConfig& config) {
  JobPlan plan;
  plan.config = config;
  if (config.engine.backend == BackendKind::kCuda) {
    throw UnsupportedError("engine.backend: cuda is not available in this build yet; use cpu or auto");
  }
  plan.model = std::make_unique<ModelDir>(model_dir_open(config.model.path));
  const ModelConfig& mc = plan.model->config;
  plan.max_model_len = config.model.max_model_len > 0 ? config.model.max_model_len : mc.max_position_embeddings;
  if (plan.max_model_len > mc.max_position_embeddings) {
    throw ConfigError("max_model_len " + std::to_string(plan.max_model_len) + " exceeds the model's " +
                          std::to_string(mc.max_position_embeddings) + " positions",
                      {.key = "model.max_model_len"});
  }

  const std::string tokenizer_dir = config.model.tokenizer.empty() ? config.model.path : config.model.tokenizer;
  plan.tokenizer = std::make_unique<tokenizer::Tokenizer>(
      tokenizer::Tokenizer::load((fs::path(tokenizer_dir) / "tokenizer.json").string()));
  if (static_cast<int64_t>(plan.tokenizer->vocab_size()) > mc.vocab_size) {
    throw ConfigError("the tokenizer has " + std::to_string(plan.tokenizer->vocab_size()) +
                          " tokens but the model only " + std::to_string(mc.vocab_size),
                      {.file = tokenizer_dir, .key = "model.tokenizer"});
  }
  plan.chat = load_template(config, tokenizer_dir);

  check_output_dir(config.output.dir);
  plan.input_options = {.paths = config.input.paths,
                        .format = config.input.format,
                        .mode = config.mode == JobMode::kScore ? InputMode::kScore : InputMode::kGenerate,
                        .field = config.input.field,
                        .records_per_unit = config.input.records_per_unit,
                        .max_record_bytes = config.input.max_record_bytes};
  plan.index = index_inputs(plan.input_options, config.output.dir);
  if (plan.index.num_records == 0) {
    throw ConfigError("the inputs hold no records", {.key = "input.paths"});
  }
  std::error_code ec;
  for (const auto& f : plan.index.files) plan.input_bytes += fs::file_size(f, ec);

  const KvLayout layout = kv_layout_of(mc, config.engine.kv_dtype);
  plan.kv_cache_bytes = config.engine.kv_cache_memory.value_or(auto_kv_cache_bytes(directory_weight_bytes(config.model.path)));
  plan.num_kv_blocks = kv_num_blocks_for_memory(layout, config.engine.block_size, plan.kv_cache_bytes);

  for (int64_t id : plan.model->generation.eos_token_ids) {
    plan.eos_tokens.push_back(plan.tokenizer->id_to_token(static_cast<uint32_t>(id)).value_or(std::to_string(id)));
  }

  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  plan.stored = read_job_manifest(config.output.dir);
  plan.manifest = make_job_manifest(config, plan.index.fingerprint, plan.max_model_len,
                                    plan.stored ? plan.stored->created_at : now);
  if (plan.stored) {
    plan.changed = manifest_differences(*plan.stored, plan.manifest);
    const CommittedWork committed = read_committed_units(config.output.dir);
    plan.units_committed = static_cast<int64_t>(committed.units.size());
    for (int64_t u : committed.units) {
      if (u >= 0 && u < static_cast<int64_t>(plan.index.units.size())) {
        plan.records_committed += plan.index.units[static_cast<size_t>(u)].num_records;
      }
    }
  }
  return plan;
}

std::string format_job_plan(const JobPlan& plan) {
  const JobConfig& c = plan.config;
  const ModelConfig& mc = plan.model->config;
  std::ostringstream out;
  out << "model:      " << c.model.path << " (" << mc.num_hidden_layers << " layers, hidden " << mc.hidden_size
      << ", vocab " << mc.vocab_size << "), max_model_len " << plan.max_model_len << "\n";
  out << "tokenizer:  " << (c.model.tokenizer.empty() ? c.model.path : c.model.tokenizer) << " ("
      << plan.tokenizer->vocab_size() << " tokens), chat template " << (plan.chat ? "yes" : "none") << "\n";
  out << "mode:       " << (c.mode == JobMode::kScore ? "score" : "generate") << "\n";
  out << "inputs:     " << plan.index.files.size() << " file(s), " << format_bytes(plan.input_bytes) << ", "
      << plan.index.num_records << " records in " << plan.index.units.size() << " units of up to "
      << c.input.records_per_unit << "\n";
  // About 4 bytes of text per token for English; generation is bounded by max_tokens x n.
  const int64_t est_prompt = static_cast<int64_t>(plan.input_bytes / 4);
  out << "estimate:   ~" << est_prompt << " prompt tokens";
  if (c.mode == JobMode::kGenerate) {
    out << ", at most " << plan.index.num_records * c.sampling.max_tokens * c.sampling.n << " generated tokens";
  }
  out << "\n";
  out << "KV cache:   " << format_bytes(plan.kv_cache_bytes) << " = " << plan.num_kv_blocks << " blocks of "
      << c.engine.block_size << " tokens (" << dtype_name(c.engine.kv_dtype) << ")\n";
  out << "output:     " << c.output.dir;
  if (!plan.stored) {
    out << " (new job)\n";
  } else if (plan.changed.empty()) {
    out << " (resume: " << plan.units_committed << " of " << plan.index.units.size() << " units, "
        << plan.records_committed << " records committed)\n";
  } else {
    out << " (holds a different job: ";
    for (size_t i = 0; i < plan.changed.size(); ++i) out << (i ? ", " : "") << plan.changed[i];
    out << " changed; run with --restart to discard it)\n";
  }
  return out.str();
}

}  // namespace llmbatch
