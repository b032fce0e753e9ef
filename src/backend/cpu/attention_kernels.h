// The implementations behind paged_attention (attention.h), one work item
// at a time: query tokens [token_begin, token_end) of one sequence, for the
// query heads that read one KV head. How the step is cut into items never
// changes a token's bits: each kernel computes a token's output from its q,
// its position and the cache alone, in an order fixed by the position.
//
// Both take q, out: [rows, num_heads * head_dim] f32 and one layer's
// k_cache, v_cache in shape.kv_dtype: where kv_row() offsets of K and of V
// start (KvStorage's k_data() and v_data()).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "backend/cpu/attention.h"

namespace llmbatch {

struct AttentionItem {
  const AttentionSequence* sequence = nullptr;
  int64_t kv_head_begin = 0;  // KV heads [begin, end) and the query heads that read them
  int64_t kv_head_end = 0;
  int64_t token_begin = 0;  // tokens of the sequence, 0 = its first token in this step
  int64_t token_end = 0;
};

// The step's items, the costliest first: (sequence, block of
// kAttentionQueryBlock tokens) with every KV head, so that an item reads
// each block's K and V, every head, as one run (12 KiB for smollm135m)
// rather than one head's 2 KiB of K and 2 KiB of V (bench_kv_read: random
// 2 KiB runs at 6-9 GB/s here, 6 KiB runs at 10-13, adjacent K and V ~30%
// more: docs/PERFORMANCE.md); one KV head per item when there are fewer
// than 4 * `threads` such blocks, to keep the threads busy. Bits never
// depend on the cut: each (token, head) row is computed alone.
std::vector<AttentionItem> plan_attention_items(const AttentionShape& shape,
                                                std::span<const AttentionSequence> sequences, int threads);

// Any shape and KV dtype; plain C++ with the fixed-order kernels of vec.h
// and std::exp.
void attend_portable(const AttentionShape& shape, const AttentionItem& item, const float* q, const void* k_cache,
                     const void* v_cache, float* out);

// AVX2 + FMA: dot products straight from the cache rows (bf16 widened in
// registers), several query rows per key row, a polynomial exp2.
// Needs attend_avx2_supports(shape).
bool attend_avx2_supports(const AttentionShape& shape);
void attend_avx2(const AttentionShape& shape, const AttentionItem& item, const float* q, const void* k_cache,
                 const void* v_cache, float* out);

}  // namespace llmbatch
