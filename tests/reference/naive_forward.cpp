#include "reference/naive_forward.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>

#include "core/dtype.h"
#include "core/error.h"
#include "model/weight_layout.h"

namespace llmbatch::reference {
namespace {

// Every element of tensor `name`, converted exactly to float64 (f16 and
// bf16 values are all representable in float). memcpy per element: the
// mmap'd bytes carry no alignment promise.
std::vector<double> load(const TensorStore& store, const std::string& name) {
  const TensorInfo& info = store.get(name);
  const auto bytes = store.bytes(name);
  const size_t n = static_cast<size_t>(info.numel());
  std::vector<double> out(n);
  for (size_t i = 0; i < n; ++i) {
    switch (info.dtype) {
      case DType::F32: {
        float f;
        std::memcpy(&f, bytes.data() + 4 * i, 4);
        out[i] = f;
        break;
      }
      case DType::F16:
      case DType::BF16: {
        uint16_t h;
        std::memcpy(&h, bytes.data() + 2 * i, 2);
        out[i] = info.dtype == DType::F16 ? f16_to_f32(h) : bf16_to_f32(h);
        break;
      }
    }
  }
  return out;
}

// y [rows] = W [rows, cols] x [cols] (+ bias [rows] when not empty).
std::vector<double> matvec(const std::vector<double>& w, const std::vector<double>& bias, const double* x,
                           int64_t rows, int64_t cols) {
  std::vector<double> y(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    double sum = 0.0;
    for (int64_t c = 0; c < cols; ++c) sum += w[static_cast<size_t>(r * cols + c)] * x[c];
    y[static_cast<size_t>(r)] = bias.empty() ? sum : sum + bias[static_cast<size_t>(r)];
  }
  return y;
}

// x * rsqrt(mean(x^2) + eps) * weight, as LlamaRMSNorm / Qwen2RMSNorm.
std::vector<double> rms_norm(const std::vector<double>& x, const std::vector<double>& weight, double eps) {
  double mean_square = 0.0;
  for (double v : x) mean_square += v * v;
  mean_square /= static_cast<double>(x.size());
  const double scale = 1.0 / std::sqrt(mean_square + eps);
  std::vector<double> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * scale * weight[i];
  return y;
}

double silu(double z) { return z / (1.0 + std::exp(-z)); }

std::vector<double> log_softmax(const std::vector<double>& logits) {
  const double max = *std::max_element(logits.begin(), logits.end());
  double sum = 0.0;
  for (double v : logits) sum += std::exp(v - max);
  const double log_z = max + std::log(sum);
  std::vector<double> out(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) out[i] = logits[i] - log_z;
  return out;
}

}  // namespace

std::vector<double> rope_inverse_frequencies(const ModelConfig& config, const ReferenceOptions& options) {
  const int64_t half = config.head_dim / 2;
  std::vector<double> inv_freq(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i) {
    inv_freq[static_cast<size_t>(i)] =
        std::pow(config.rope_theta, -static_cast<double>(2 * i) / static_cast<double>(config.head_dim));
  }
  const RopeScaling& s = config.rope_scaling;
  switch (s.type) {
    case RopeScalingType::None:
      break;
    case RopeScalingType::Linear:
      // transformers divides the positions by the factor; the same angles.
      for (double& f : inv_freq) f /= s.factor;
      break;
    case RopeScalingType::Llama3: {
      if (options.ignore_llama3_scaling) break;
      // Wavelengths longer than the original context / low_freq_factor are
      // slowed by `factor`; shorter than context / high_freq_factor are kept;
      // in between, interpolated by where the wavelength lies.
      const double context = static_cast<double>(s.original_max_position_embeddings);
      const double low_freq_wavelen = context / s.low_freq_factor;
      const double high_freq_wavelen = context / s.high_freq_factor;
      for (double& f : inv_freq) {
        const double wavelen = 2.0 * std::numbers::pi / f;
        if (wavelen > low_freq_wavelen) {
          f = f / s.factor;
        } else if (wavelen >= high_freq_wavelen) {
          const double smooth = (context / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
          f = (1.0 - smooth) * f / s.factor + smooth * f;
        }
      }
      break;
    }
  }
  return inv_freq;
}

ReferenceModel::ReferenceModel(const ModelDir& model, ReferenceOptions options)
    : config_(model.config), options_(options), inv_freq_(rope_inverse_frequencies(model.config, options)) {
  const TensorStore& t = model.tensors;
  embed_ = load(t, "model.embed_tokens.weight");
  for (int64_t l = 0; l < config_.num_hidden_layers; ++l) {
    const auto get = [&](const std::string& suffix) { return load(t, layer_tensor_name(l, suffix)); };
    Layer layer;
    layer.input_norm = get("input_layernorm.weight");
    layer.q = get("self_attn.q_proj.weight");
    layer.k = get("self_attn.k_proj.weight");
    layer.v = get("self_attn.v_proj.weight");
    layer.o = get("self_attn.o_proj.weight");
    if (config_.qkv_bias && !options_.skip_qkv_bias) {
      layer.q_bias = get("self_attn.q_proj.bias");
      layer.k_bias = get("self_attn.k_proj.bias");
      layer.v_bias = get("self_attn.v_proj.bias");
    }
    if (config_.o_bias && !options_.skip_qkv_bias) layer.o_bias = get("self_attn.o_proj.bias");
    layer.post_norm = get("post_attention_layernorm.weight");
    layer.gate = get("mlp.gate_proj.weight");
    layer.up = get("mlp.up_proj.weight");
    layer.down = get("mlp.down_proj.weight");
    layers_.push_back(std::move(layer));
  }
  final_norm_ = load(t, "model.norm.weight");
  lm_head_ = config_.tie_word_embeddings ? embed_ : load(t, "lm_head.weight");
}

void ReferenceModel::apply_rope(double* head, int64_t position) const {
  const int64_t half = config_.head_dim / 2;
  for (int64_t i = 0; i < half; ++i) {
    const double angle = static_cast<double>(position) * inv_freq_[static_cast<size_t>(i)];
    const double c = std::cos(angle), s = std::sin(angle);
    // transformers' rotate_half pairs element i with i + d/2; the planted
    // bug pairs 2i with 2i + 1 (the GPT-J / Meta-checkpoint layout).
    const int64_t a = options_.interleaved_rope ? 2 * i : i;
    const int64_t b = options_.interleaved_rope ? 2 * i + 1 : i + half;
    const double x = head[a], y = head[b];
    head[a] = x * c - y * s;
    head[b] = y * c + x * s;
  }
}

void ReferenceModel::attention_block(const Layer& layer, std::vector<std::vector<double>>& x) const {
  const int64_t n = static_cast<int64_t>(x.size()), hidden = config_.hidden_size, d = config_.head_dim;
  const int64_t heads = config_.num_attention_heads, kv_heads = config_.num_key_value_heads;
  const int64_t group = heads / kv_heads;
  // Contiguous projections: q [n][heads * d], k and v [n][kv_heads * d].
  std::vector<std::vector<double>> q(x.size()), k(x.size()), v(x.size());
  for (int64_t t = 0; t < n; ++t) {
    const auto h = rms_norm(x[t], layer.input_norm, config_.rms_norm_eps);
    q[t] = matvec(layer.q, layer.q_bias, h.data(), config_.q_size(), hidden);
    k[t] = matvec(layer.k, layer.k_bias, h.data(), config_.kv_size(), hidden);
    v[t] = matvec(layer.v, layer.v_bias, h.data(), config_.kv_size(), hidden);
    for (int64_t head = 0; head < heads; ++head) apply_rope(q[t].data() + head * d, t);
    for (int64_t head = 0; head < kv_heads; ++head) apply_rope(k[t].data() + head * d, t);
  }
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  for (int64_t t = 0; t < n; ++t) {
    std::vector<double> out(static_cast<size_t>(config_.q_size()), 0.0);  // [heads * d]
    for (int64_t head = 0; head < heads; ++head) {
      const int64_t kv = options_.modulo_gqa_mapping ? head % kv_heads : head / group;
      // Causal: position t sees keys 0..t.
      std::vector<double> scores(static_cast<size_t>(t + 1));
      for (int64_t s = 0; s <= t; ++s) {
        double dot = 0.0;
        for (int64_t i = 0; i < d; ++i) dot += q[t][head * d + i] * k[s][kv * d + i];
        scores[s] = dot * scale;
      }
      const double max = *std::max_element(scores.begin(), scores.end());
      double sum = 0.0;
      for (double& p : scores) sum += (p = std::exp(p - max));
      for (int64_t s = 0; s <= t; ++s) {
        const double p = scores[s] / sum;
        for (int64_t i = 0; i < d; ++i) out[head * d + i] += p * v[s][kv * d + i];
      }
    }
    const auto projected = matvec(layer.o, layer.o_bias, out.data(), hidden, config_.q_size());
    for (int64_t i = 0; i < hidden; ++i) x[t][i] += projected[i];
  }
}

void ReferenceModel::mlp_block(const Layer& layer, std::vector<std::vector<double>>& x) const {
  const int64_t hidden = config_.hidden_size, ffn = config_.intermediate_size;
  for (auto& row : x) {
    const auto h = rms_norm(row, layer.post_norm, config_.rms_norm_eps);
    auto gate = matvec(layer.gate, {}, h.data(), ffn, hidden);
    const auto up = matvec(layer.up, {}, h.data(), ffn, hidden);
    for (int64_t i = 0; i < ffn; ++i) gate[i] = silu(gate[i]) * up[i];
    const auto down = matvec(layer.down, {}, gate.data(), hidden, ffn);
    for (int64_t i = 0; i < hidden; ++i) row[i] += down[i];
  }
}

std::vector<std::vector<double>> ReferenceModel::logprobs(const std::vector<int64_t>& tokens) const {
  const int64_t hidden = config_.hidden_size;
  std::vector<std::vector<double>> x;  // the residual stream [n][hidden]
  for (size_t t = 0; t < tokens.size(); ++t) {
    const int64_t id = tokens[t];
    if (id < 0 || id >= config_.vocab_size) {
      throw InputError("token id " + std::to_string(id) + " at position " + std::to_string(t) +
                           " is outside the vocabulary [0, " + std::to_string(config_.vocab_size) + ")",
                       {}, "pass token ids of this model's tokenizer");
    }
    x.emplace_back(embed_.begin() + id * hidden, embed_.begin() + (id + 1) * hidden);
  }
  for (const Layer& layer : layers_) {
    attention_block(layer, x);
    mlp_block(layer, x);
  }
  std::vector<std::vector<double>> out;
  out.reserve(x.size());
  for (const auto& row : x) {
    const auto h = rms_norm(row, final_norm_, config_.rms_norm_eps);
    out.push_back(log_softmax(matvec(lm_head_, {}, h.data(), config_.vocab_size, hidden)));
  }
  return out;
}

std::vector<std::vector<double>> reference_logprobs(const ModelDir& model, const std::vector<int64_t>& tokens,
                                                    const ReferenceOptions& options) {
  return ReferenceModel(model, options).logprobs(tokens);
}

}  // namespace llmbatch::reference
