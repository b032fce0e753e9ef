// Splits a step's attention into work items and runs them on the OpenMP
// threads with the kernel this CPU and shape always get.
#include "backend/cpu/attention.h"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "backend/cpu/attention_kernels.h"
#include "core/error.h"

namespace llmbatch {
std::vector<AttentionItem> plan_attention_items(const AttentionShape& shape,
                                                std::span<const AttentionSequence> sequences, int threads) {
  int64_t query_blocks = 0;
  for (const auto& seq : sequences) query_blocks += (seq.num_tokens + kAttentionQueryBlock - 1) / kAttentionQueryBlock;
  const int64_t heads_per_item = query_blocks >= 4 * int64_t{threads} ? shape.num_kv_heads : 1;
  std::vector<AttentionItem> items;
  for (const auto& seq : sequences) {
    for (int64_t begin = 0; begin < seq.num_tokens; begin += kAttentionQueryBlock) {
      const int64_t end = std::min(seq.num_tokens, begin + kAttentionQueryBlock);
      for (int64_t h = 0; h < shape.num_kv_heads; h += heads_per_item) {
        items.push_back({&seq, h, h + heads_per_item, begin, end});
      }
    }
  }
  // Tokens × keys read: the dynamic schedule ends even when the largest go first.
  auto cost = [](const AttentionItem& i) { return (i.token_end - i.token_begin) * (i.sequence->start_position + i.token_end); };
  std::stable_sort(items.begin(), items.end(), [&](const auto& a, const auto& b) { return cost(a) > cost(b); });
  return items;
}

AttentionKernel attention_kernel(const AttentionShape& shape) {
  return attend_avx2_supports(shape) ? AttentionKernel::Avx2 : AttentionKernel::Portable;
}

const char* attention_kernel_name(AttentionKernel kernel) {
  switch (kernel) {
    case AttentionKernel::Portable: return "portable";
    case AttentionKernel::Avx2: return "avx2+fma";
  }
  return "?";
}

void paged_attention(const AttentionShape& shape, std::span<const AttentionSequence> sequences, const float* q,
                     const void* k_cache, const void* v_cache, float* out) {
  paged_attention(attention_kernel(shape), shape, sequences, q, k_cache, v_cache, out);
}

void paged_attention(AttentionKernel kernel, const AttentionShape& shape, std::span<const AttentionSequence> sequences,
                     const float* q, const void* k_cache, const void* v_cache, float* out) {
  LLMBATCH_CHECK(kernel == AttentionKernel::Portable || attend_avx2_supports(shape),
                 "the avx2 attention kernel does not support this CPU or shape");
  const std::vector<AttentionItem> items = plan_attention_items(shape, sequences, omp_get_max_threads());
  const auto run = kernel == AttentionKernel::Avx2 ? attend_avx2 : attend_portable;
  const int64_t n = static_cast<int64_t>(items.size());
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t i = 0; i < n; ++i) run(shape, items[i], q, k_cache, v_cache, out);
}

}  // namespace llmbatch
