// The implementations behind paged_attention (attention.h), one work item
// at a time: query tokens of one or more sequences, for the query heads
// that read some KV heads. How the step is cut into items never changes a
// token's bits: each kernel computes a token's output from its q, its
// position and the cache alone, in an order fixed by the position.
//
// All take q, out: [rows, num_heads * head_dim] f32 and one layer's
// k_cache, v_cache in shape.kv_dtype: where kv_head_run() offsets of K and
// of V start (KvStorage's k_data() and v_data()); and `next`, the item the
// calling thread runs after this one (or nullptr), whose first tile the
// vector kernels ask memory for while they compute this item's last.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "backend/cpu/attention.h"

namespace llmbatch {

// Any shape and KV dtype; plain C++ with the fixed-order kernels of vec.h
// and std::exp.
void attend_portable(const AttentionShape& shape, const AttentionItem& item, const AttentionItem* next, const float* q,
                     const void* k_cache, const void* v_cache, float* out);

// AVX2 + FMA: scores as FMA chains over the dims with 8 keys to a vector,
// straight from the cache (bf16 widened in registers); up to 6 query rows
// per pass over the keys, rows of sequences sharing a tile together; a
// polynomial exp2.
// Needs attend_avx2_supports(shape).
bool attend_avx2_supports(const AttentionShape& shape);
void attend_avx2(const AttentionShape& shape, const AttentionItem& item, const AttentionItem* next, const float* q,
                 const void* k_cache, const void* v_cache, float* out);

// The AVX2 kernel with AVX-512 score and value blocks (16 keys or dims to a
// vector): the same bits as attend_avx2, faster where the CPU has
// AVX-512F. Needs attend_avx512_supports(shape).
bool attend_avx512_supports(const AttentionShape& shape);
void attend_avx512(const AttentionShape& shape, const AttentionItem& item, const AttentionItem* next, const float* q,
                   const void* k_cache, const void* v_cache, float* out);

// The wide kernel with bf16 dot products (VDPBF16PS): q and the softmax
// weights rounded to bf16, two multiply-adds per lane and instruction
// straight from the cache's words; bits of its own (within bf16 rounding of
// the others). Needs attend_avx512_bf16_supports(shape): a bf16 KV cache.
bool attend_avx512_bf16_supports(const AttentionShape& shape);
void attend_avx512_bf16(const AttentionShape& shape, const AttentionItem& item, const AttentionItem* next,
                        const float* q, const void* k_cache, const void* v_cache, float* out);

}  // namespace llmbatch
