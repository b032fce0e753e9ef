// Splits a step's attention into work items and runs them on the OpenMP
// threads with the kernel this CPU and shape always get.
#include "backend/cpu/attention.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "backend/cpu/attention_kernels.h"
#include "core/error.h"

namespace llmbatch {
namespace {

int64_t tokens(const AttentionPiece& p) { return p.token_end - p.token_begin; }

// Tokens × keys of the pieces, per KV head.
int64_t cost(std::span<const AttentionPiece> pieces) {
  int64_t c = 0;
  for (const auto& p : pieces) c += tokens(p) * (p.sequence->start_position + p.token_end);
  return c;
}

// Each sequence cut into pieces of up to kAttentionQueryBlock tokens, with
// sequences that share blocks side by side: block tables in lexicographic
// order put every set of sequences sharing a prefix of blocks together.
std::vector<AttentionPiece> sorted_pieces(std::span<const AttentionSequence> sequences) {
  std::vector<AttentionPiece> pieces;
  for (const auto& seq : sequences) {
    for (int64_t begin = 0; begin < seq.num_tokens; begin += kAttentionQueryBlock) {
      pieces.push_back({&seq, begin, std::min(seq.num_tokens, begin + kAttentionQueryBlock)});
    }
  }
  std::stable_sort(pieces.begin(), pieces.end(), [](const AttentionPiece& a, const AttentionPiece& b) {
    return std::ranges::lexicographical_compare(a.sequence->block_table, b.sequence->block_table);
  });
  return pieces;
}

// Runs of pieces sharing a first block, each cut into the fewest groups of
// up to `most` tokens, of about equal size.
std::vector<std::span<const AttentionPiece>> sharing_groups(std::span<const AttentionPiece> pieces, int64_t most) {
  auto first_block = [](const AttentionPiece& p) { return p.sequence->block_table.front(); };
  std::vector<std::span<const AttentionPiece>> groups;
  for (size_t run = 0; run < pieces.size();) {
    size_t run_end = run;
    int64_t run_tokens = 0;
    for (; run_end < pieces.size() && first_block(pieces[run_end]) == first_block(pieces[run]); ++run_end) {
      run_tokens += tokens(pieces[run_end]);
    }
    const int64_t cuts = (run_tokens + most - 1) / most;
    const int64_t target = (run_tokens + cuts - 1) / cuts;
    for (size_t begin = run; begin < run_end;) {
      size_t end = begin + 1;
      int64_t n = tokens(pieces[begin]);
      for (; end < run_end && n < target && n + tokens(pieces[end]) <= most; ++end) n += tokens(pieces[end]);
      groups.push_back(pieces.subspan(begin, end - begin));
      begin = end;
    }
    run = run_end;
  }
  return groups;
}

// KV heads per item: one only where that ends the step more than 10%
// sooner, since an item of every head reads each block as one run.
int64_t heads_per_item(std::span<const std::span<const AttentionPiece>> groups, int64_t heads, int threads) {
  std::vector<int64_t> whole, split;
  for (const auto& group : groups) {
    whole.push_back(heads * cost(group));
    split.insert(split.end(), heads, cost(group));
  }
  return 10 * attention_schedule_length(split, threads) < 9 * attention_schedule_length(whole, threads) ? 1 : heads;
}

}  // namespace

AttentionPlan plan_attention(const AttentionShape& shape, std::span<const AttentionSequence> sequences, int threads) {
  AttentionPlan plan;
  plan.pieces = sorted_pieces(sequences);
  // Groups of at most kAttentionQueryBlock tokens, or the step's tokens per
  // thread if fewer, so that 16 forks make 2 items for 2 threads rather than 1.
  int64_t step_tokens = 0;
  for (const auto& p : plan.pieces) step_tokens += tokens(p);
  const int64_t most = std::clamp<int64_t>((step_tokens + threads - 1) / std::max(threads, 1), 1, kAttentionQueryBlock);
  const auto groups = sharing_groups(plan.pieces, most);
  const int64_t per_item = heads_per_item(groups, shape.num_kv_heads, threads);
  for (const auto& group : groups) {
    for (int64_t h = 0; h < shape.num_kv_heads; h += per_item) plan.items.push_back({group, h, h + per_item});
  }
  // The dynamic schedule ends even when the largest go first.
  std::stable_sort(plan.items.begin(), plan.items.end(),
                   [](const auto& a, const auto& b) { return cost(a.pieces) > cost(b.pieces); });
  return plan;
}

int64_t attention_schedule_length(std::vector<int64_t> costs, int threads) {
  std::sort(costs.begin(), costs.end(), std::greater<>());
  std::vector<int64_t> load(std::max(threads, 1), 0);
  for (const int64_t c : costs) *std::min_element(load.begin(), load.end()) += c;
  return *std::max_element(load.begin(), load.end());
}

bool attention_kernel_supported(AttentionKernel kernel, const AttentionShape& shape) {
  switch (kernel) {
    case AttentionKernel::Portable: return true;
    case AttentionKernel::Avx2: return attend_avx2_supports(shape);
    case AttentionKernel::Avx512: return attend_avx512_supports(shape);
    case AttentionKernel::Avx512Bf16: return attend_avx512_bf16_supports(shape);
  }
  return false;
}

AttentionKernel attention_kernel(const AttentionShape& shape) {
  for (const auto kernel : {AttentionKernel::Avx512Bf16, AttentionKernel::Avx512, AttentionKernel::Avx2}) {
    if (attention_kernel_supported(kernel, shape)) return kernel;
  }
  return AttentionKernel::Portable;
}

const char* attention_kernel_name(AttentionKernel kernel) {
  switch (kernel) {
    case AttentionKernel::Portable: return "portable";
    case AttentionKernel::Avx2: return "avx2+fma";
    case AttentionKernel::Avx512: return "avx512";
    case AttentionKernel::Avx512Bf16: return "avx512-bf16";
  }
  return "?";
}

namespace {

void run_plan(AttentionKernel kernel, const AttentionShape& shape, const AttentionPlan& plan, const float* q,
              const void* k_cache, const void* v_cache, float* out) {
  LLMBATCH_CHECK(attention_kernel_supported(kernel, shape), std::string("the ") + attention_kernel_name(kernel) +
                                                                " attention kernel does not support this CPU or shape");
  const auto run = [&] {
    switch (kernel) {
      case AttentionKernel::Avx2: return attend_avx2;
      case AttentionKernel::Avx512: return attend_avx512;
      case AttentionKernel::Avx512Bf16: return attend_avx512_bf16;
      case AttentionKernel::Portable: break;
    }
    return attend_portable;
  }();
  // Items go out one at a time, largest first. While plenty are left a
  // thread claims its next item before it runs the current one, so that the
  // kernel can ask memory for the next one's first tile meanwhile; near the
  // end it does not, or a thread holding two of a step's few large items
  // (forks grouped by KV head) leaves the other idle.
  const int64_t n = std::ssize(plan.items);
  const int64_t plenty = 2 * omp_get_max_threads();
  std::atomic<int64_t> next_index{0};  // the first item no thread has claimed
  const auto claim = [&] { return next_index.fetch_add(1, std::memory_order_relaxed); };
#pragma omp parallel
  {
    for (int64_t i = claim(); i < n;) {
      const int64_t next = n - next_index.load(std::memory_order_relaxed) >= plenty ? claim() : n;
      run(shape, plan.items[i], next < n ? &plan.items[next] : nullptr, q, k_cache, v_cache, out);
      i = next < n ? next : claim();
    }
  }
}

}  // namespace

void paged_attention(const AttentionShape& shape, const AttentionPlan& plan, const float* q, const void* k_cache,
                     const void* v_cache, float* out) {
  run_plan(attention_kernel(shape), shape, plan, q, k_cache, v_cache, out);
}

void paged_attention(AttentionKernel kernel, const AttentionShape& shape, const AttentionPlan& plan, const float* q,
                     const void* k_cache, const void* v_cache, float* out) {
  run_plan(kernel, shape, plan, q, k_cache, v_cache, out);
}

void paged_attention(AttentionKernel kernel, const AttentionShape& shape, std::span<const AttentionSequence> sequences,
                     const float* q, const void* k_cache, const void* v_cache, float* out) {
  run_plan(kernel, shape, plan_attention(shape, sequences, omp_get_max_threads()), q, k_cache, v_cache, out);
}

}  // namespace llmbatch
