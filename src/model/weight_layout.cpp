#include "model/weight_layout.h"

#include <set>

#include "core/error.h"

namespace llmbatch {
namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

// Old checkpoints store RoPE's inverse frequencies; they are recomputed.
bool is_ignorable(const std::string& name) { return name.ends_with(".self_attn.rotary_emb.inv_freq"); }

}  // namespace

std::string layer_tensor_name(int64_t layer, const std::string& suffix) {
  return "model.layers." + std::to_string(layer) + "." + suffix;
}

std::vector<ExpectedTensor> expected_tensors(const ModelConfig& c) {
  const int64_t h = c.hidden_size, q = c.q_size(), kv = c.kv_size(), ffn = c.intermediate_size;
  std::vector<ExpectedTensor> out;
  out.push_back({"model.embed_tokens.weight", {c.vocab_size, h}});
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const auto add = [&](const std::string& suffix, std::vector<int64_t> shape) {
      out.push_back({layer_tensor_name(l, suffix), std::move(shape)});
    };
    add("input_layernorm.weight", {h});
    add("self_attn.q_proj.weight", {q, h});
    add("self_attn.k_proj.weight", {kv, h});
    add("self_attn.v_proj.weight", {kv, h});
    if (c.qkv_bias) {
      add("self_attn.q_proj.bias", {q});
      add("self_attn.k_proj.bias", {kv});
      add("self_attn.v_proj.bias", {kv});
    }
    add("self_attn.o_proj.weight", {h, q});
    if (c.o_bias) add("self_attn.o_proj.bias", {h});
    add("post_attention_layernorm.weight", {h});
    add("mlp.gate_proj.weight", {ffn, h});
    add("mlp.up_proj.weight", {ffn, h});
    add("mlp.down_proj.weight", {h, ffn});
  }
  out.push_back({"model.norm.weight", {h}});
  // A tied checkpoint may still carry a copy of the head; it is not used.
  out.push_back({"lm_head.weight", {c.vocab_size, h}, !c.tie_word_embeddings});
  return out;
}

void validate_tensors(const ModelConfig& config, const TensorStore& store, const std::string& dir) {
  std::vector<std::string> problems;
  std::set<std::string> expected_names;
  for (const auto& e : expected_tensors(config)) {
    expected_names.insert(e.name);
    const auto* t = store.find(e.name);
    if (!t) {
      if (e.required) problems.push_back("missing " + e.name + " " + shape_text(e.shape));
    } else if (t->shape != e.shape) {
      problems.push_back("wrong shape " + e.name + ": " + shape_text(t->shape) + ", expected " + shape_text(e.shape));
    }
  }
  for (const auto* t : store.tensors()) {
    if (!expected_names.contains(t->name) && !is_ignorable(t->name)) problems.push_back("unexpected " + t->name);
  }
  if (problems.empty()) return;

  constexpr size_t kMaxListed = 25;
  std::string what = std::to_string(problems.size()) + " tensor problem(s) against config.json:";
  for (size_t i = 0; i < problems.size() && i < kMaxListed; ++i) what += "\n  " + problems[i];
  if (problems.size() > kMaxListed) what += "\n  ... and " + std::to_string(problems.size() - kMaxListed) + " more";
  throw ModelFormatError(what, {.file = dir}, "the weights do not belong to this config.json");
}

int64_t parameter_count(const ModelConfig& config) {
  int64_t total = 0;
  for (const auto& e : expected_tensors(config)) {
    if (!e.required) continue;  // the tied head shares the embedding matrix
    int64_t n = 1;
    for (int64_t d : e.shape) n *= d;
    total += n;
  }
  return total;
}

}  // namespace llmbatch
