// The implementations behind paged_attention (attention.h), one work item
// at a time: query tokens of one or more sequences, for the query heads
// that read some KV heads. How the step is cut into items never changes a
// token's bits: each kernel computes a token's output from its q, its
// position and the cache alone, in an order fixed by the position.
//
// Both take q, out: [rows, num_heads * head_dim] f32 and one layer's
// k_cache, v_cache in shape.kv_dtype: where kv_head_run() offsets of K and
// of V start (KvStorage's k_data() and v_data()).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "backend/cpu/attention.h"

namespace llmbatch {

// Query tokens [token_begin, token_end) of one sequence, 0 = its first
// token in this step.
struct AttentionPiece {
  const AttentionSequence* sequence = nullptr;
  int64_t token_begin = 0;
  int64_t token_end = 0;
};

// One work item: its pieces' tokens, for the query heads that read KV heads
// [kv_head_begin, kv_head_end).
struct AttentionItem {
  std::span<const AttentionPiece> pieces;
  int64_t kv_head_begin = 0;
  int64_t kv_head_end = 0;
};

// A step's items, pointing into its pieces: moved, never copied.
struct AttentionPlan {
  std::vector<AttentionPiece> pieces;
  std::vector<AttentionItem> items;

  AttentionPlan() = default;
  AttentionPlan(AttentionPlan&&) = default;
  AttentionPlan& operator=(AttentionPlan&&) = default;
  AttentionPlan(const AttentionPlan&) = delete;
  AttentionPlan& operator=(const AttentionPlan&) = delete;
};

// The step's items, the costliest first. Each sequence is cut into pieces
// of up to kAttentionQueryBlock tokens. Pieces whose sequences share their
// first KV block (forks, n > 1 samples, prefix-cache hits) go into one item
// of up to kAttentionQueryBlock tokens (or the step's tokens per thread, if
// fewer), cut evenly: the kernel computes
// their rows together wherever their block tables share a tile, reading
// the tile once for all of them (the shape of a GEMM). An item takes every
// KV head, so that it reads each block's K and V, every head, as one run
// (12 KiB for smollm135m) rather than one head's 2 KiB of K and 2 KiB of V
// (bench_kv_read: random 2 KiB runs at 6-9 GB/s here, 6 KiB runs at 10-13,
// adjacent K and V ~30% more: docs/PERFORMANCE.md); one KV head per item
// where that ends the step's schedule more than 10% sooner (a decode step of
// one or a few sequences). Bits never depend on the cut: each (token, head)
// row is computed alone.
AttentionPlan plan_attention(const AttentionShape& shape, std::span<const AttentionSequence> sequences, int threads);

// How long the step takes, in cost units, when items of these costs go,
// largest first, each to the least loaded of `threads` threads: the dynamic
// schedule's order.
int64_t attention_schedule_length(std::vector<int64_t> costs, int threads);

// Any shape and KV dtype; plain C++ with the fixed-order kernels of vec.h
// and std::exp.
void attend_portable(const AttentionShape& shape, const AttentionItem& item, const float* q, const void* k_cache,
                     const void* v_cache, float* out);

// AVX2 + FMA: scores as FMA chains over the dims with 8 keys to a vector,
// straight from the cache (bf16 widened in registers); up to 6 query rows
// per pass over the keys, rows of sequences sharing a tile together; a
// polynomial exp2.
// Needs attend_avx2_supports(shape).
bool attend_avx2_supports(const AttentionShape& shape);
void attend_avx2(const AttentionShape& shape, const AttentionItem& item, const float* q, const void* k_cache,
                 const void* v_cache, float* out);

}  // namespace llmbatch
