#include "reference/forward_fixtures.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "model/model_config.h"
#include "model/random_model.h"

namespace llmbatch::reference {
namespace fs = std::filesystem;

namespace {

static_assert(std::endian::native == std::endian::little, "fixtures are little-endian float32");

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw IoError("cannot open", {.file = path.string()}, "run tools/make-forward-fixtures.sh");
  return nlohmann::json::parse(in);
}

std::vector<float> read_floats(const fs::path& path, size_t count) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open", {.file = path.string()}, "run tools/make-forward-fixtures.sh");
  std::vector<float> out(count);
  in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(count * sizeof(float)));
  if (in.gcount() != static_cast<std::streamsize>(count * sizeof(float)) || in.peek() != EOF) {
    throw ModelFormatError("expected exactly " + std::to_string(count) + " float32 values", {.file = path.string()},
                           "forward.json and the .f32 files disagree: regenerate both");
  }
  return out;
}

// The CLI's `model random` flags as options (src/cli/model_commands.cpp).
RandomModelOptions recipe_options(const nlohmann::json& recipe) {
  RandomModelOptions o;
  o.config = random_preset_config(recipe.at("preset").get<std::string>());
  if (!dtype_parse(recipe.at("dtype").get<std::string>(), &o.config.torch_dtype)) {
    throw ConfigError("bad recipe dtype", {.key = "recipe.dtype"});
  }
  if (recipe.at("arch") == "qwen2") {
    o.config.architecture = Architecture::Qwen2;
    o.config.qkv_bias = true;
  }
  if (const int64_t kv = recipe.at("num_kv_heads").get<int64_t>(); kv > 0) o.config.num_key_value_heads = kv;
  o.seed = recipe.at("seed").get<uint64_t>();
  o.init_std = recipe.at("init_std").get<double>();
  return o;
}

size_t argmax(const float* row, size_t n) { return static_cast<size_t>(std::max_element(row, row + n) - row); }
size_t argmax(const std::vector<double>& row) {
  return static_cast<size_t>(std::max_element(row.begin(), row.end()) - row.begin());
}

}  // namespace

const FixtureModel& ForwardFixtures::model(const std::string& name) const {
  std::string known;
  for (const auto& m : models) {
    if (m.name == name) return m;
    known += " " + m.name;
  }
  throw InternalError("no fixture model '" + name + "'; known:" + known);
}

ForwardFixtures forward_fixtures_load(const std::string& dir) {
  const nlohmann::json index = read_json(fs::path(dir) / "forward.json");
  ForwardFixtures f;
  f.vocab_size = index.at("vocab_size").get<int64_t>();
  f.sequences = index.at("sequences").get<std::vector<std::vector<int64_t>>>();
  for (const auto& m : index.at("models")) {
    FixtureModel model;
    model.name = m.at("name").get<std::string>();
    if (!dtype_parse(m.at("weights_dtype").get<std::string>(), &model.weights_dtype)) {
      throw ModelFormatError("bad weights_dtype", {.file = dir, .key = "models." + model.name});
    }
    model.recipe = m.at("recipe");
    model.weights_fnv1a64 = m.at("weights_fnv1a64").get<std::string>();
    for (const auto& r : m.at("rows")) {
      const auto s = r.at("sequence").get<size_t>();
      if (s >= f.sequences.size()) throw ModelFormatError("row names a missing sequence", {.file = dir});
      for (const auto& p : r.at("positions")) {
        const auto position = p.get<int64_t>();
        if (position < 0 || position >= static_cast<int64_t>(f.sequences[s].size())) {
          throw ModelFormatError("row position outside its sequence", {.file = dir, .key = "models." + model.name});
        }
        model.rows.push_back({s, position});
      }
    }
    model.logprobs = read_floats(fs::path(dir) / m.at("file").get<std::string>(),
                                 model.rows.size() * static_cast<size_t>(f.vocab_size));
    f.models.push_back(std::move(model));
  }
  return f;
}

void fixture_model_write(const FixtureModel& model, const std::string& out_dir) {
  random_model_write(recipe_options(model.recipe), out_dir);
  const auto& edit = model.recipe.at("config_edit");
  if (edit.is_null()) return;
  const fs::path config_path = fs::path(out_dir) / "config.json";
  nlohmann::json config = read_json(config_path);
  config.update(edit);  // top-level keys replaced, as Python's dict.update
  std::ofstream out(config_path);
  out << config.dump(2) << "\n";
  if (!out) throw IoError("cannot write", {.file = config_path.string()});
}

std::string weights_fnv1a64(const TensorStore& store) {
  uint64_t h = 0xcbf29ce484222325ull;
  const auto update = [&h](const uint8_t* data, size_t n) {
    for (size_t i = 0; i < n; ++i) h = (h ^ data[i]) * 0x100000001b3ull;
  };
  for (const TensorInfo* t : store.tensors()) {
    update(reinterpret_cast<const uint8_t*>(t->name.data()), t->name.size());
    const auto bytes = store.bytes(t->name);
    update(bytes.data(), bytes.size());
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
  return text;
}

FixtureComparison fixture_compare(const ReferenceModel& model, const ForwardFixtures& fixtures,
                                  const FixtureModel& expected) {
  const auto vocab = static_cast<size_t>(fixtures.vocab_size);
  LLMBATCH_CHECK(static_cast<int64_t>(vocab) == model.config().vocab_size, "fixture vocabulary differs from the model's");
  FixtureComparison c;
  size_t computed_for = SIZE_MAX;
  std::vector<std::vector<double>> logprobs;
  for (size_t r = 0; r < expected.rows.size(); ++r) {
    const FixtureRow& row = expected.rows[r];
    if (row.sequence != computed_for) {  // rows come grouped by sequence
      logprobs = model.logprobs(fixtures.sequences[row.sequence]);
      computed_for = row.sequence;
    }
    const auto& ours = logprobs[static_cast<size_t>(row.position)];
    const float* theirs = expected.logprobs.data() + r * vocab;
    for (size_t v = 0; v < vocab; ++v) c.max_abs_diff = std::max(c.max_abs_diff, std::abs(ours[v] - theirs[v]));
    if (argmax(ours) != argmax(theirs, vocab)) ++c.argmax_mismatches;
    ++c.rows;
  }
  return c;
}

}  // namespace llmbatch::reference
