// The implementations behind paged_attention (attention.h), one work item
// at a time: query tokens [token_begin, token_end) of one sequence, for the
// query heads that read one KV head. How the step is cut into items never
// changes a token's bits: each kernel computes a token's output from its q,
// its position and the cache alone, in an order fixed by the position.
//
// Both take q, out: [rows, num_heads * head_dim] f32 and one layer's
// k_cache, v_cache: [num_blocks, num_kv_heads, block_size, head_dim] in
// shape.kv_dtype.
#pragma once

#include <cstdint>

#include "backend/cpu/attention.h"

namespace llmbatch {

struct AttentionItem {
  const AttentionSequence* sequence = nullptr;
  int64_t kv_head = 0;
  int64_t token_begin = 0;  // tokens of the sequence, 0 = its first token in this step
  int64_t token_end = 0;
};

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
