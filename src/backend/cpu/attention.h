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
#include <vector>

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

// The implementations (attention_kernels.h). Each is batch-invariant; the
// portable one rounds differently from the vector ones (Avx512 gives Avx2's
// bits), and Avx512Bf16 rounds q and the softmax weights to bf16 for its
// dot products, so one machine must always use the same one:
// attention_kernel picks by the CPU and the shape alone.
enum class AttentionKernel { Portable, Avx2, Avx512, Avx512Bf16 };

// Avx2 where the CPU has AVX2 and FMA, head_dim is a multiple of 16 and the
// KV cache is bf16 or f32; Avx512 there if the CPU also has AVX-512F, and
// Avx512Bf16 if it also has AVX512_BF16 and the KV cache is bf16 (an f32
// cache keeps f32 arithmetic); else Portable.
AttentionKernel attention_kernel(const AttentionShape& shape);
// Whether `kernel` runs `shape` on this CPU (Portable always does).
bool attention_kernel_supported(AttentionKernel kernel, const AttentionShape& shape);
const char* attention_kernel_name(AttentionKernel kernel);

// q, out: [rows, num_heads * head_dim] f32. k_cache, v_cache: where one
// layer's kv_head_run() offsets of K and of V start (KvStorage's k_data()
// and v_data()), in kv_dtype, already holding this step's keys and values.
// Runs the step's `plan` (from plan_attention, the same for every layer)
// with attention_kernel(shape).
void paged_attention(const AttentionShape& shape, const AttentionPlan& plan, const float* q, const void* k_cache,
                     const void* v_cache, float* out);
// The same with a given kernel (benchmarks compare them); throws
// InternalError for a kernel the CPU or shape does not allow.
void paged_attention(AttentionKernel kernel, const AttentionShape& shape, const AttentionPlan& plan, const float* q,
                     const void* k_cache, const void* v_cache, float* out);
// Plans `sequences` for the OpenMP threads and runs them with a given kernel
// (tests compare them); throws InternalError for a kernel the CPU or shape
// does not allow.
void paged_attention(AttentionKernel kernel, const AttentionShape& shape, std::span<const AttentionSequence> sequences,
                     const float* q, const void* k_cache, const void* v_cache, float* out);

}  // namespace llmbatch
