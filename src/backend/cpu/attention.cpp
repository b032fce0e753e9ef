// Splits a step's attention into work items and runs them on the OpenMP
// threads with the kernel this CPU and shape always get.
#include "backend/cpu/attention.h"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "backend/cpu/attention_kernels.h"
#include "core/error.h"

namespace llmbatch {
namespace {

// One thread's share of the step: query tokens [token_begin, token_end) of a
// sequence for KV heads [kv_head, head_end), one head after another. A
// cache slot holds all heads of a position side by side, so the heads of a
// sequence run together read its rows from memory once and from L2 after.
struct Task {
  AttentionItem item;  // item.kv_head: the first head
  int64_t head_end = 0;
};

// Whole sequences' heads per task where there are enough (sequence, token
// block) pairs to keep the threads busy, else one head per task; the
// costliest tasks first (tokens × keys × heads) so the dynamic schedule
// ends even.
std::vector<Task> plan_tasks(const AttentionShape& shape, std::span<const AttentionSequence> sequences) {
  int64_t pairs = 0;
  for (const auto& seq : sequences) pairs += (seq.num_tokens + kAttentionQueryBlock - 1) / kAttentionQueryBlock;
  const int64_t heads_per_task = pairs >= 4 * omp_get_max_threads() ? shape.num_kv_heads : 1;
  std::vector<Task> tasks;
  for (const auto& seq : sequences) {
    for (int64_t begin = 0; begin < seq.num_tokens; begin += kAttentionQueryBlock) {
      const int64_t end = std::min(seq.num_tokens, begin + kAttentionQueryBlock);
      for (int64_t h = 0; h < shape.num_kv_heads; h += heads_per_task) tasks.push_back({{&seq, h, begin, end}, h + heads_per_task});
    }
  }
  auto cost = [](const Task& t) {
    const AttentionItem& i = t.item;
    return (i.token_end - i.token_begin) * (i.sequence->start_position + i.token_end) * (t.head_end - i.kv_head);
  };
  std::stable_sort(tasks.begin(), tasks.end(), [&](const auto& a, const auto& b) { return cost(a) > cost(b); });
  return tasks;
}

}  // namespace

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
  const std::vector<Task> tasks = plan_tasks(shape, sequences);
  const auto run = kernel == AttentionKernel::Avx2 ? attend_avx2 : attend_portable;
  const int64_t n = static_cast<int64_t>(tasks.size());
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t i = 0; i < n; ++i) {
    AttentionItem item = tasks[i].item;
    for (; item.kv_head < tasks[i].head_end; ++item.kv_head) run(shape, item, q, k_cache, v_cache, out);
  }
}

}  // namespace llmbatch
