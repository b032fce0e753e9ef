// Causal self-attention over a paged KV cache, for a flat batch of query
// tokens from many sequences (prefill chunks and decode tokens mixed).
//
// The FlashAttention idea on a CPU: keys are visited in tiles of
// kAttentionTile positions aligned to absolute positions (tile i holds
// positions [i*T, (i+1)*T)), with an online softmax, so no [query × key]
// matrix is ever held. The tiling and every reduction depend only on the
// query's position, so a token's output is the same bits alone or in any
// batch, whatever the block size, and whether its prefix came from the
// prefix cache or was computed in this step.
#pragma once

#include <cstdint>
#include <span>

#include "core/dtype.h"
#include "kv/kv_types.h"

namespace llmbatch {

// 64: the per-tile softmax bookkeeping (max, rescale, sums) is spread over
// enough keys to cost little.
constexpr int64_t kAttentionTile = 64;
// A prefill chunk is cut into work items of this many query tokens, so
// one long prompt still keeps every thread busy.
constexpr int64_t kAttentionQueryBlock = 32;

struct AttentionShape {
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;  // query head h reads KV head h / (num_heads / num_kv_heads)
  int64_t head_dim = 0;
  int64_t block_size = 0;
  DType kv_dtype = DType::BF16;
};

// One sequence's query tokens in this step.
struct AttentionSequence {
  int64_t first_row = 0;       // its first token's row in q / out
  int64_t num_tokens = 0;
  int64_t start_position = 0;  // position of that token; keys [0, start + num_tokens) are in the cache
  std::span<const BlockId> block_table;
};

// The implementations (attention_kernels.h). Each is batch-invariant; the
// two round differently, so one machine must always use the same one:
// attention_kernel picks by the CPU and the shape alone.
enum class AttentionKernel { Portable, Avx2 };

// Avx2 where the CPU has AVX2 and FMA, head_dim is a multiple of 16 and the
// KV cache is bf16 or f32; else Portable.
AttentionKernel attention_kernel(const AttentionShape& shape);
const char* attention_kernel_name(AttentionKernel kernel);

// q, out: [rows, num_heads * head_dim] f32. k_cache, v_cache: where one
// layer's kv_head_run() offsets of K and of V start (KvStorage's k_data()
// and v_data()), in kv_dtype, already holding this step's keys and values. Runs
// attention_kernel(shape).
void paged_attention(const AttentionShape& shape, std::span<const AttentionSequence> sequences, const float* q,
                     const void* k_cache, const void* v_cache, float* out);
// The same with a given kernel (tests compare them); throws InternalError
// for Avx2 where attention_kernel(shape) would not pick it.
void paged_attention(AttentionKernel kernel, const AttentionShape& shape, std::span<const AttentionSequence> sequences,
                     const float* q, const void* k_cache, const void* v_cache, float* out);

}  // namespace llmbatch
