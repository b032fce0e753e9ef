#include "backend/cpu/attention.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "backend/cpu/vec.h"

namespace llmbatch {
namespace {

// Copies the keys (or values) of positions [begin, begin + n) of one KV head
// into `dst` as f32: [n, head_dim].
void gather_tile(const AttentionShape& s, std::span<const BlockId> table, const void* cache, int64_t kv_head,
                 int64_t begin, int64_t n, float* dst) {
  for (int64_t j = 0; j < n; ++j) {
    const int64_t pos = begin + j;
    const int64_t slot = static_cast<int64_t>(table[pos / s.block_size]) * s.block_size + pos % s.block_size;
    const int64_t offset = (slot * s.num_kv_heads + kv_head) * s.head_dim;
    if (s.kv_dtype == DType::F32) {
      std::copy_n(static_cast<const float*>(cache) + offset, s.head_dim, dst + j * s.head_dim);
    } else {
      dtype_to_f32(s.kv_dtype, static_cast<const uint16_t*>(cache) + offset, dst + j * s.head_dim, s.head_dim);
    }
  }
}

// Online-softmax state of one (query token, head): running max, running
// sum of exp, and the unnormalized output.
struct QueryState {
  float max = -std::numeric_limits<float>::infinity();
  float sum = 0.0f;
};

// All query tokens of `seq` for the query heads of one KV head.
void attend_group(const AttentionShape& s, const AttentionSequence& seq, int64_t kv_head, const float* q,
                  const void* k_cache, const void* v_cache, float* out) {
  const int64_t hd = s.head_dim;
  const int64_t group = s.num_heads / s.num_kv_heads;
  const int64_t row_stride = s.num_heads * hd;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const int64_t last_position = seq.start_position + seq.num_tokens - 1;

  std::vector<QueryState> state(seq.num_tokens * group);
  std::vector<float> k_tile(kAttentionTile * hd), v_tile(kAttentionTile * hd), scores(kAttentionTile);
  for (int64_t t = 0; t < seq.num_tokens; ++t) {
    for (int64_t g = 0; g < group; ++g) std::fill_n(out + (seq.first_row + t) * row_stride + (kv_head * group + g) * hd, hd, 0.0f);
  }
  for (int64_t tile_begin = 0; tile_begin <= last_position; tile_begin += kAttentionTile) {
    const int64_t tile_n = std::min(kAttentionTile, last_position + 1 - tile_begin);
    gather_tile(s, seq.block_table, k_cache, kv_head, tile_begin, tile_n, k_tile.data());
    gather_tile(s, seq.block_table, v_cache, kv_head, tile_begin, tile_n, v_tile.data());
    // Tokens before this tile's first position see none of it.
    const int64_t first_t = std::max<int64_t>(0, tile_begin - seq.start_position);
    for (int64_t t = first_t; t < seq.num_tokens; ++t) {
      const int64_t visible = std::min(tile_n, seq.start_position + t + 1 - tile_begin);
      for (int64_t g = 0; g < group; ++g) {
        const int64_t head = kv_head * group + g;
        const float* qv = q + (seq.first_row + t) * row_stride + head * hd;
        float* acc = out + (seq.first_row + t) * row_stride + head * hd;
        QueryState& st = state[t * group + g];
        vec_tile_scores(qv, k_tile.data(), visible, hd, scale, scores.data());
        float tile_max = -std::numeric_limits<float>::infinity();
        for (int64_t j = 0; j < visible; ++j) tile_max = std::max(tile_max, scores[j]);
        const float new_max = std::max(st.max, tile_max);
        const float rescale = std::exp(st.max - new_max);  // 0 on the first tile
        st.sum *= rescale;
        vec_scale(rescale, acc, hd);
        for (int64_t j = 0; j < visible; ++j) {
          scores[j] = std::exp(scores[j] - new_max);  // now the weights p_j
          st.sum += scores[j];
        }
        vec_tile_accumulate(scores.data(), v_tile.data(), visible, hd, acc);
        st.max = new_max;
      }
    }
  }
  for (int64_t t = 0; t < seq.num_tokens; ++t) {
    for (int64_t g = 0; g < group; ++g) {
      const int64_t head = kv_head * group + g;
      vec_scale(1.0f / state[t * group + g].sum, out + (seq.first_row + t) * row_stride + head * hd, hd);
    }
  }
}

}  // namespace

void paged_attention(const AttentionShape& shape, std::span<const AttentionSequence> sequences, const float* q,
                     const void* k_cache, const void* v_cache, float* out) {
  const int64_t work = static_cast<int64_t>(sequences.size()) * shape.num_kv_heads;
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t w = 0; w < work; ++w) {
    attend_group(shape, sequences[w / shape.num_kv_heads], w % shape.num_kv_heads, q, k_cache, v_cache, out);
  }
}

}  // namespace llmbatch
