#include "backend/cpu/cpu_model.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "backend/cpu/activation.h"
#include "backend/cpu/attention.h"
#include "backend/cpu/rmsnorm.h"
#include "backend/cpu/vec.h"
#include "core/error.h"
#include "kv/block_table.h"
#include "model/weight_layout.h"

namespace llmbatch {
namespace {

std::vector<float> load_f32(const WeightSet& weights, const std::string& name) {
  const WeightView w = weights.get(name);
  const size_t n = w.bytes.size() / dtype_size(w.dtype);
  std::vector<float> out(n);
  dtype_to_f32(w.dtype, w.bytes.data(), out.data(), n);
  return out;
}

// Rows of several [rows_i, in] tensors stacked into one [sum rows_i, in]
// weight in their common stored dtype (q;k;v and gate;up fuse this way).
Linear stacked_linear(HugePageArena& arena, const WeightSet& weights, const std::vector<std::string>& names,
                      DType requested) {
  std::vector<WeightView> parts;
  for (const auto& n : names) parts.push_back(weights.get(n));
  DType dtype = parts[0].dtype;
  const int64_t in = parts[0].shape[1];
  int64_t out = 0;
  bool same_dtype = true;
  for (const auto& p : parts) {
    out += p.shape[0];
    same_dtype = same_dtype && p.dtype == dtype;
  }
  const DType storage = requested == DType::BF16 ? DType::BF16 : DType::F32;
  if (parts.size() == 1) return Linear(arena, parts[0].bytes.data(), dtype, out, in, storage);
  std::vector<uint8_t> stacked;
  if (same_dtype) {
    for (const auto& p : parts) stacked.insert(stacked.end(), p.bytes.begin(), p.bytes.end());
  } else {  // mixed checkpoint dtypes: stack as f32
    dtype = DType::F32;
    for (const auto& p : parts) {
      const size_t n = p.bytes.size() / dtype_size(p.dtype);
      const size_t at = stacked.size();
      stacked.resize(at + n * 4);
      dtype_to_f32(p.dtype, p.bytes.data(), reinterpret_cast<float*>(stacked.data() + at), n);
    }
  }
  return Linear(arena, stacked.data(), dtype, out, in, storage);
}

// x += y (+ bias), row by row in parallel: the residual connection.
void residual_add(float* y, const std::vector<float>& bias, float* x, int64_t rows, int64_t width) {
#pragma omp parallel for schedule(static) if (rows >= kMinRowsForThreads)
  for (int64_t r = 0; r < rows; ++r) {
    if (!bias.empty()) vec_add(bias.data(), y + r * width, width);
    vec_add(y + r * width, x + r * width, width);
  }
}

// Adds the time since the last lap to one of the profile's buckets.
class Stopwatch {
 public:
  void lap(double& bucket) {
    const auto now = std::chrono::steady_clock::now();
    bucket += std::chrono::duration<double>(now - last_).count();
    last_ = now;
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

void grow(std::vector<float>& buffer, int64_t size) {
  if (static_cast<int64_t>(buffer.size()) < size) buffer.resize(size);
}

// Element i of `src` (n elements of Size bytes) to dst + i * stride elements.
template <size_t Size>
void scatter_elements(const uint8_t* src, int64_t n, uint8_t* dst, int64_t stride) {
  for (int64_t i = 0; i < n; ++i) std::memcpy(dst + i * stride * Size, src + i * Size, Size);
}

}  // namespace

CpuModel::Layer CpuModel::load_layer(const WeightSet& w, int64_t l, DType requested) {
  const auto name = [l](const std::string& suffix) { return layer_tensor_name(l, suffix); };
  Layer layer{
      load_f32(w, name("input_layernorm.weight")),
      load_f32(w, name("post_attention_layernorm.weight")),
      {},
      {},
      stacked_linear(weights_arena_, w,
                     {name("self_attn.q_proj.weight"), name("self_attn.k_proj.weight"), name("self_attn.v_proj.weight")},
                     requested),
      stacked_linear(weights_arena_, w, {name("self_attn.o_proj.weight")}, requested),
      stacked_linear(weights_arena_, w, {name("mlp.gate_proj.weight"), name("mlp.up_proj.weight")}, requested),
      stacked_linear(weights_arena_, w, {name("mlp.down_proj.weight")}, requested),
  };
  if (config_.qkv_bias) {
    for (const char* p : {"q", "k", "v"}) {
      const auto b = load_f32(w, name(std::string("self_attn.") + p + "_proj.bias"));
      layer.qkv_bias.insert(layer.qkv_bias.end(), b.begin(), b.end());
    }
  }
  if (config_.o_bias) layer.o_bias = load_f32(w, name("self_attn.o_proj.bias"));
  return layer;
}

CpuModel::CpuModel(const ModelConfig& config, const WeightSet& weights, const BackendOptions& options)
    : config_(config),
      options_(options),
      rope_(config, options.max_model_len),
      attention_shape_{config.num_attention_heads, config.num_key_value_heads, config.head_dim, options.block_size,
                       options.kv_dtype},
      kv_(kv_layout_of(config, options.kv_dtype),
          options.num_blocks, options.block_size) {
  cpu_set_threads(options.threads);
  const WeightView embed = weights.get("model.embed_tokens.weight");
  const DType requested = options.weight_dtype.value_or(embed.dtype);
  embed_dtype_ = embed.dtype;
  embed_.assign(embed.bytes.begin(), embed.bytes.end());
  for (int64_t l = 0; l < config.num_hidden_layers; ++l) layers_.push_back(load_layer(weights, l, requested));
  final_norm_ = load_f32(weights, "model.norm.weight");
  lm_head_ = std::make_unique<Linear>(
      stacked_linear(weights_arena_, weights,
                     {config.tie_word_embeddings ? "model.embed_tokens.weight" : "lm_head.weight"}, requested));
}

std::string CpuModel::describe() const {
  return std::string("cpu (") + std::string(dtype_name(lm_head_->storage_dtype())) + " weights, " +
         linear_kernel_name(lm_head_->kernel()) + " GEMM, KV " + std::string(dtype_name(options_.kv_dtype)) + ", " +
         std::to_string(cpu_threads()) + " threads)";
}

void CpuModel::embed(const StepBatch& batch, float* x) const {
  const int64_t hidden = config_.hidden_size;
  const size_t row_bytes = hidden * dtype_size(embed_dtype_);
  for (int64_t t = 0; t < batch.num_tokens(); ++t) {
    const TokenId id = batch.token_ids[t];
    LLMBATCH_CHECK(id >= 0 && id < config_.vocab_size, "token id outside the vocabulary");
    dtype_to_f32(embed_dtype_, embed_.data() + id * row_bytes, x + t * hidden, hidden);
  }
}

void CpuModel::store_kv(int64_t layer, int64_t slot, const float* qkv_row) {
  const int64_t q = config_.q_size(), kv = config_.kv_size(), hd = config_.head_dim;
  const size_t elem = dtype_size(options_.kv_dtype);
  auto* k_cache = static_cast<uint8_t*>(kv_.k_data(layer));
  auto* v_cache = static_cast<uint8_t*>(kv_.v_data(layer));
  const int64_t bs = options_.block_size, heads = config_.num_key_value_heads;
  const int64_t word = kv_word_values(options_.kv_dtype), v_step = v_tokens_per_word(bs, word);
  // Converted as a row first, then scattered (kv_storage.h): K one 32-bit
  // word of dims at a time, block_size words apart; V one value at a time,
  // v_step values apart. Sizes known at compile time, so each copy is one
  // move.
  thread_local std::vector<uint8_t> row;
  row.resize(hd * elem);
  const auto scatter_values = elem == 2 ? scatter_elements<2> : scatter_elements<4>;
  for (int64_t h = 0; h < heads; ++h) {
    dtype_from_f32(options_.kv_dtype, qkv_row + q + h * hd, row.data(), hd);
    scatter_elements<4>(row.data(), hd / word, k_cache + k_element(slot, bs, heads, hd, h, 0, word) * elem, bs);
    dtype_from_f32(options_.kv_dtype, qkv_row + q + kv + h * hd, row.data(), hd);
    scatter_values(row.data(), hd, v_cache + v_element(slot, bs, heads, hd, h, 0, word) * elem, v_step);
  }
}

void CpuModel::attention_block(const Layer& layer, int64_t index, const StepBatch& batch,
                               const AttentionPlan& plan, float* x) {
  const int64_t tokens = batch.num_tokens(), hidden = config_.hidden_size;
  const int64_t q = config_.q_size(), kv = config_.kv_size(), width = q + 2 * kv;
  const float eps = static_cast<float>(config_.rms_norm_eps);
  Stopwatch watch;
  rmsnorm_rows(x, layer.input_norm.data(), h_.data(), tokens, hidden, eps);
  watch.lap(profile_.other);
  layer.qkv.forward(h_.data(), tokens, qkv_.data());
  watch.lap(profile_.gemm);
  // Per token: bias, RoPE at its position, q aside, k and v into its KV slot.
#pragma omp parallel for schedule(static) if (tokens >= kMinRowsForThreads)
  for (int64_t t = 0; t < tokens; ++t) {
    float* row = qkv_.data() + t * width;
    if (!layer.qkv_bias.empty()) vec_add(layer.qkv_bias.data(), row, width);
    rope_.apply(row, config_.num_attention_heads, token_positions_[t]);
    rope_.apply(row + q, config_.num_key_value_heads, token_positions_[t]);
    std::copy_n(row, q, q_.data() + t * q);
    store_kv(index, token_slots_[t], row);
  }
  watch.lap(profile_.rope_kv);

  paged_attention(attention_shape_, plan, q_.data(), kv_.k_data(index), kv_.v_data(index), attn_.data());
  watch.lap(profile_.attention);
  layer.o.forward(attn_.data(), tokens, proj_.data());
  watch.lap(profile_.gemm);
  residual_add(proj_.data(), layer.o_bias, x, tokens, hidden);
  watch.lap(profile_.other);
}

void CpuModel::mlp_block(const Layer& layer, int64_t tokens, float* x) {
  const int64_t hidden = config_.hidden_size, ffn = config_.intermediate_size;
  Stopwatch watch;
  rmsnorm_rows(x, layer.post_attention_norm.data(), h_.data(), tokens, hidden, static_cast<float>(config_.rms_norm_eps));
  watch.lap(profile_.other);
  layer.gate_up.forward(h_.data(), tokens, gate_up_.data());
  watch.lap(profile_.gemm);
  silu_mul_rows(gate_up_.data(), tokens, ffn, act_.data());
  watch.lap(profile_.other);
  layer.down.forward(act_.data(), tokens, proj_.data());
  watch.lap(profile_.gemm);
  residual_add(proj_.data(), {}, x, tokens, hidden);
  watch.lap(profile_.other);
}

void CpuModel::emit_logits(const StepBatch& batch, const float* x, LogitsSink& sink) {
  const int64_t hidden = config_.hidden_size, vocab = config_.vocab_size;
  const int64_t rows = static_cast<int64_t>(batch.logit_rows.size());
  std::vector<float> normed(std::min(rows, kLogitsChunkRows) * hidden);
  std::vector<float> logits(std::min(rows, kLogitsChunkRows) * vocab);
  for (int64_t r0 = 0; r0 < rows; r0 += kLogitsChunkRows) {
    const int64_t n = std::min(kLogitsChunkRows, rows - r0);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t row = batch.logit_rows[r0 + i];
      LLMBATCH_CHECK(row >= 0 && row < batch.num_tokens(), "logit row outside the batch");
      rmsnorm_row(x + row * hidden, final_norm_.data(), normed.data() + i * hidden, hidden,
                  static_cast<float>(config_.rms_norm_eps));
    }
    Stopwatch watch;
    lm_head_->forward(normed.data(), n, logits.data());
    watch.lap(profile_.gemm);
    for (int64_t i = 0; i < n; ++i) sink.consume(r0 + i, {logits.data() + i * vocab, static_cast<size_t>(vocab)});
  }
}

void CpuModel::forward(const StepBatch& batch, LogitsSink& sink) {
  const int64_t tokens = batch.num_tokens();
  for (const auto& seq : batch.sequences) {
    LLMBATCH_CHECK(seq.first_token >= 0 && seq.num_tokens >= 0 && seq.first_token + seq.num_tokens <= tokens,
                   "sequence tokens outside the batch");
    LLMBATCH_CHECK(seq.start_position + seq.num_tokens <= options_.max_model_len, "sequence longer than max_model_len");
    LLMBATCH_CHECK(static_cast<int64_t>(seq.block_table.size()) * options_.block_size >= seq.start_position + seq.num_tokens,
                   "block table too short for the sequence");
  }
  for (const auto& copy : batch.copies) kv_.copy_block(copy.src, copy.dst);
  if (tokens == 0) return;
  const int64_t hidden = config_.hidden_size, q = config_.q_size();
  std::vector<float> x(tokens * hidden);
  grow(h_, tokens * hidden);
  grow(qkv_, tokens * (q + 2 * config_.kv_size()));
  grow(q_, tokens * q);
  grow(attn_, tokens * q);
  grow(proj_, tokens * hidden);
  grow(gate_up_, tokens * 2 * config_.intermediate_size);
  grow(act_, tokens * config_.intermediate_size);

  std::vector<AttentionSequence> sequences;
  token_positions_.resize(tokens);
  token_slots_.resize(tokens);
  for (const auto& s : batch.sequences) {
    sequences.push_back({s.first_token, s.num_tokens, s.start_position, s.block_table});
    for (int64_t i = 0; i < s.num_tokens; ++i) {
      const int64_t pos = s.start_position + i;
      token_positions_[s.first_token + i] = pos;
      token_slots_[s.first_token + i] = kv_slot(s.block_table, options_.block_size, pos);
    }
  }
  const AttentionPlan plan = plan_attention(attention_shape_, sequences, cpu_threads());
  ++profile_.steps;
  embed(batch, x.data());
  for (int64_t l = 0; l < config_.num_hidden_layers; ++l) {
    attention_block(layers_[l], l, batch, plan, x.data());
    mlp_block(layers_[l], tokens, x.data());
  }
  emit_logits(batch, x.data(), sink);
}

std::unique_ptr<Backend> make_cpu_backend(const ModelConfig& config, const WeightSet& weights,
                                          const BackendOptions& options) {
  return std::make_unique<CpuModel>(config, weights, options);
}

}  // namespace llmbatch
