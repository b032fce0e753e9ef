#include "model/random_model.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/philox.h"
#include "model/safetensors_writer.h"
#include "model/weight_layout.h"

namespace llmbatch {
namespace fs = std::filesystem;

namespace {

struct Preset {
  const char* name;
  ModelConfig config;
};

ModelConfig make_config(Architecture arch, int64_t vocab, int64_t hidden, int64_t inter, int64_t layers,
                        int64_t heads, int64_t kv_heads, bool tied, double theta, int64_t max_pos) {
  ModelConfig c;
  c.architecture = arch;
  c.vocab_size = vocab;
  c.hidden_size = hidden;
  c.intermediate_size = inter;
  c.num_hidden_layers = layers;
  c.num_attention_heads = heads;
  c.num_key_value_heads = kv_heads;
  c.head_dim = hidden / heads;
  c.rms_norm_eps = 1e-5;
  c.rope_theta = theta;
  c.max_position_embeddings = max_pos;
  c.tie_word_embeddings = tied;
  return c;
}

RopeScaling llama3_scaling(double factor) {
  return {RopeScalingType::Llama3, factor, 1.0, 4.0, 8192};
}

std::vector<Preset> presets() {
  Preset tiny{"tiny", make_config(Architecture::Llama, 512, 64, 128, 2, 4, 2, false, 10000.0, 4096)};
  tiny.config.bos_token_id = 1;
  tiny.config.eos_token_ids = {2};
  Preset smol{"smollm135m", make_config(Architecture::Llama, 49152, 576, 1536, 30, 9, 3, true, 10000.0, 2048)};
  smol.config.bos_token_id = 0;
  smol.config.eos_token_ids = {0};
  Preset l1b{"llama1b", make_config(Architecture::Llama, 128256, 2048, 8192, 16, 32, 8, true, 500000.0, 131072)};
  l1b.config.rope_scaling = llama3_scaling(32.0);
  Preset l8b{"llama8b", make_config(Architecture::Llama, 128256, 4096, 14336, 32, 32, 8, false, 500000.0, 131072)};
  l8b.config.rope_scaling = llama3_scaling(8.0);
  for (Preset* p : {&l1b, &l8b}) {
    p->config.bos_token_id = 128000;
    p->config.eos_token_ids = {128001, 128008, 128009};
  }
  return {tiny, smol, l1b, l8b};
}

bool is_norm(const std::string& name) { return name.ends_with("norm.weight"); }

// Four consecutive elements [4 * block, 4 * block + 4) of a tensor: one
// Philox call gives 128 bits, two Box-Muller pairs.
std::array<float, 4> random_weight_block(const RandomModelOptions& o, bool norm, uint32_t tensor_index,
                                         uint64_t block) {
  const PhiloxKey key = {static_cast<uint32_t>(o.seed), static_cast<uint32_t>(o.seed >> 32)};
  const auto r = philox4x32({static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), tensor_index, 0}, key);
  const auto a = philox_normal_pair(r[0], r[1]);
  const auto b = philox_normal_pair(r[2], r[3]);
  // Norm weights near 1 (but not all 1, so a skipped weight multiply shows).
  const float stddev = static_cast<float>(o.init_std), base = norm ? 1.0f : 0.0f;
  return {base + stddev * a[0], base + stddev * a[1], base + stddev * b[0], base + stddev * b[1]};
}

// Fills out[0, count) with elements [begin, begin + count) of a tensor,
// spreading the work over `threads`. `begin` is a multiple of 4.
void fill_tensor(const RandomModelOptions& o, const std::string& name, uint32_t tensor_index, uint64_t begin,
                 size_t count, float* out, int threads) {
  const bool norm = is_norm(name);
  const auto work = [&](size_t lo, size_t hi) {  // lo is a multiple of 4
    for (size_t i = lo; i < hi; i += 4) {
      const auto v = random_weight_block(o, norm, tensor_index, (begin + i) / 4);
      for (size_t k = 0; k < 4 && i + k < hi; ++k) out[i + k] = v[k];
    }
  };
  std::vector<std::thread> pool;
  const size_t per = ((count + threads - 1) / threads + 3) / 4 * 4;
  for (int t = 1; t < threads; ++t) {
    const size_t lo = std::min(count, t * per), hi = std::min(count, lo + per);
    if (lo < hi) pool.emplace_back(work, lo, hi);
  }
  work(0, std::min(count, per));
  for (auto& th : pool) th.join();
}

void write_json(const fs::path& path, const nlohmann::json& json) {
  std::ofstream out(path);
  out << json.dump(2) << "\n";
  if (!out) throw IoError("cannot write", {.file = path.string()});
}

// Groups tensors into shards of at most `shard_size` bytes (a larger tensor
// gets a shard of its own). One group when shard_size is 0.
std::vector<std::vector<TensorDecl>> plan_shards(const std::vector<TensorDecl>& tensors, uint64_t shard_size) {
  std::vector<std::vector<TensorDecl>> shards(1);
  uint64_t used = 0;
  for (const auto& t : tensors) {
    if (shard_size > 0 && used > 0 && used + t.nbytes() > shard_size) {
      shards.emplace_back();
      used = 0;
    }
    shards.back().push_back(t);
    used += t.nbytes();
  }
  return shards;
}

std::string shard_file_name(size_t index, size_t count) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", index + 1, count);
  return buf;
}

}  // namespace

std::vector<std::string> random_preset_names() {
  std::vector<std::string> names;
  for (const auto& p : presets()) names.push_back(p.name);
  return names;
}

ModelConfig random_preset_config(const std::string& preset) {
  std::string known;
  for (const auto& p : presets()) {
    if (preset == p.name) return p.config;
    known += (known.empty() ? "" : ", ") + std::string(p.name);
  }
  throw ConfigError("unknown preset '" + preset + "'", {.key = "--preset"}, "known presets: " + known);
}

float random_weight_value(const RandomModelOptions& o, const std::string& tensor_name, uint32_t tensor_index,
                          uint64_t index) {
  return random_weight_block(o, is_norm(tensor_name), tensor_index, index / 4)[index % 4];
}

void random_model_write(const RandomModelOptions& o, const std::string& out_dir) {
  if (fs::exists(out_dir) && !fs::is_directory(out_dir)) {
    throw ConfigError("output path exists and is not a directory", {.file = out_dir}, "choose a new --out directory");
  }
  if (fs::exists(out_dir) && !fs::is_empty(out_dir)) {
    throw ConfigError("output directory is not empty", {.file = out_dir}, "choose a new --out directory");
  }
  if (!(o.init_std > 0 && o.init_std < 10)) throw ConfigError("init_std must be in (0, 10)", {.key = "--init-std"});
  fs::create_directories(out_dir);
  const int threads = o.threads > 0 ? o.threads : std::max(1u, std::thread::hardware_concurrency());

  const auto expected = expected_tensors(o.config);
  std::vector<TensorDecl> decls;
  for (const auto& e : expected) {
    if (e.required) decls.push_back({e.name, o.config.torch_dtype, e.shape});
  }
  auto index_of = [&](const std::string& name) {
    return static_cast<uint32_t>(std::find_if(expected.begin(), expected.end(), [&](auto& e) { return e.name == name; }) -
                                 expected.begin());
  };

  const auto shards = plan_shards(decls, o.shard_size);
  nlohmann::json weight_map = nlohmann::json::object();
  uint64_t total_size = 0;
  constexpr size_t kChunk = 1 << 22;  // elements generated per step: bounds memory
  std::vector<float> values(kChunk);
  std::vector<uint8_t> packed(kChunk * 4);
  for (size_t s = 0; s < shards.size(); ++s) {
    const std::string file = shards.size() == 1 ? "model.safetensors" : shard_file_name(s, shards.size());
    SafetensorsWriter writer((fs::path(out_dir) / file).string(), shards[s]);
    for (const auto& t : shards[s]) {
      const uint64_t numel = t.nbytes() / dtype_size(t.dtype);
      const uint32_t tensor_index = index_of(t.name);
      for (uint64_t begin = 0; begin < numel; begin += kChunk) {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, numel - begin));
        fill_tensor(o, t.name, tensor_index, begin, n, values.data(), threads);
        dtype_from_f32(t.dtype, values.data(), packed.data(), n);
        writer.write({packed.data(), n * dtype_size(t.dtype)});
      }
      weight_map[t.name] = file;
      total_size += t.nbytes();
    }
    writer.finish();
  }
  if (shards.size() > 1) {
    write_json(fs::path(out_dir) / "model.safetensors.index.json",
               {{"metadata", {{"total_size", total_size}}}, {"weight_map", weight_map}});
  }
  write_json(fs::path(out_dir) / "config.json", model_config_to_json(o.config));
  nlohmann::json generation = nlohmann::json::object();
  if (o.config.bos_token_id) generation["bos_token_id"] = *o.config.bos_token_id;
  if (!o.config.eos_token_ids.empty()) generation["eos_token_id"] = o.config.eos_token_ids;
  write_json(fs::path(out_dir) / "generation_config.json", generation);
}

}  // namespace llmbatch
