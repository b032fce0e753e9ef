// The portable attention kernel: each key tile gathered into f32 rows, then
// the fixed-order dot products and accumulation of vec.h and std::exp.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "backend/cpu/attention_kernels.h"
#include "backend/cpu/vec.h"
#include "kv/block_table.h"
#include "kv/kv_storage.h"

namespace llmbatch {
namespace {

// Copies the keys and values of positions [begin, begin + n) of one KV head
// into `keys` and `values` as f32: [n, head_dim] each, one value at a time
// through the layout's addressing (kv_storage.h).
void gather_tile(const AttentionShape& s, std::span<const BlockId> table, const void* k_cache, const void* v_cache,
                 int64_t kv_head, int64_t begin, int64_t n, float* keys, float* values) {
  const size_t elem = dtype_size(s.kv_dtype);
  const auto* k = static_cast<const uint8_t*>(k_cache);
  const auto* v = static_cast<const uint8_t*>(v_cache);
  const int64_t bs = s.block_size, hd = s.head_dim, word = kv_word_values(s.kv_dtype);
  for (int64_t j = 0; j < n; ++j) {
    const int64_t slot = kv_slot(table, bs, begin + j);
    for (int64_t d = 0; d < hd; ++d) {
      dtype_to_f32(s.kv_dtype, k + k_element(slot, bs, s.num_kv_heads, hd, kv_head, d, word) * elem,
                   keys + j * hd + d, 1);
      dtype_to_f32(s.kv_dtype, v + v_element(slot, bs, s.num_kv_heads, hd, kv_head, d, word) * elem,
                   values + j * hd + d, 1);
    }
  }
}

// Per-thread buffers, grown to the largest item seen.
struct Scratch {
  std::vector<float> k_tile, v_tile, scores;  // [kAttentionTile, head_dim] x2, [kAttentionTile]
  std::vector<float> max, sum;                // online-softmax state per (token, head): [tokens * group]
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// A piece's tokens for the query heads of one KV head.
void attend_head(const AttentionShape& s, const AttentionPiece& piece, int64_t kv_head, const float* q,
                 const void* k_cache, const void* v_cache, float* out) {
  const AttentionSequence& seq = *piece.sequence;
  const int64_t hd = s.head_dim;
  const int64_t group = s.num_heads / s.num_kv_heads;
  const int64_t row_stride = s.num_heads * hd;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const int64_t last_position = seq.start_position + piece.token_end - 1;
  // (token t of the sequence, head g of the group) -> its q / out row.
  auto at = [&](int64_t t, int64_t g) { return (seq.first_row + t) * row_stride + (kv_head * group + g) * hd; };

  Scratch& w = scratch();
  w.k_tile.resize(kAttentionTile * hd);
  w.v_tile.resize(kAttentionTile * hd);
  w.scores.resize(kAttentionTile);
  const int64_t states = (piece.token_end - piece.token_begin) * group;
  w.max.assign(states, -std::numeric_limits<float>::infinity());
  w.sum.assign(states, 0.0f);
  for (int64_t t = piece.token_begin; t < piece.token_end; ++t) {
    for (int64_t g = 0; g < group; ++g) std::fill_n(out + at(t, g), hd, 0.0f);
  }
  for (int64_t tile_begin = 0; tile_begin <= last_position; tile_begin += kAttentionTile) {
    const int64_t tile_n = std::min(kAttentionTile, last_position + 1 - tile_begin);
    gather_tile(s, seq.block_table, k_cache, v_cache, kv_head, tile_begin, tile_n, w.k_tile.data(), w.v_tile.data());
    // Tokens before this tile's first position see none of it.
    const int64_t first_t = std::max(piece.token_begin, tile_begin - seq.start_position);
    for (int64_t t = first_t; t < piece.token_end; ++t) {
      const int64_t visible = std::min(tile_n, seq.start_position + t + 1 - tile_begin);
      for (int64_t g = 0; g < group; ++g) {
        float* acc = out + at(t, g);
        const int64_t state = (t - piece.token_begin) * group + g;
        float* scores = w.scores.data();
        vec_tile_scores(q + at(t, g), w.k_tile.data(), visible, hd, scale, scores);
        const float tile_max = *std::max_element(scores, scores + visible);
        const float new_max = std::max(w.max[state], tile_max);
        const float rescale = std::exp(w.max[state] - new_max);  // 0 on the first tile
        w.sum[state] *= rescale;
        vec_scale(rescale, acc, hd);
        for (int64_t j = 0; j < visible; ++j) {
          scores[j] = std::exp(scores[j] - new_max);  // now the weights p_j
          w.sum[state] += scores[j];
        }
        vec_tile_accumulate(scores, w.v_tile.data(), visible, hd, acc);
        w.max[state] = new_max;
      }
    }
  }
  for (int64_t t = piece.token_begin; t < piece.token_end; ++t) {
    for (int64_t g = 0; g < group; ++g) {
      vec_scale(1.0f / w.sum[(t - piece.token_begin) * group + g], out + at(t, g), hd);
    }
  }
}

}  // namespace

void attend_portable(const AttentionShape& shape, const AttentionItem& item, const AttentionItem* /*next*/,
                     const float* q, const void* k_cache, const void* v_cache, float* out) {
  for (const AttentionPiece& piece : item.pieces) {
    for (int64_t h = item.kv_head_begin; h < item.kv_head_end; ++h) attend_head(shape, piece, h, q, k_cache, v_cache, out);
  }
}

}  // namespace llmbatch
