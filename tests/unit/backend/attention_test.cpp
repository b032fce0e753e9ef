// Paged attention, each kernel, against a naive float64 softmax attention
// over contiguous K/V, with shuffled block tables, GQA and MQA, odd lengths
// and block sizes; then bitwise batch invariance: a token's output bits are
// the same alone, in any chunk, beside any other sequences, with any block
// size.
#include "backend/cpu/attention.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>
#include <numeric>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "core/dtype.h"
#include "core/error.h"
#include "kv/block_table.h"
#include "kv/kv_storage.h"

namespace llmbatch {
namespace {

struct Problem {
  int64_t heads, kv_heads, head_dim, block_size;
  DType kv_dtype;
};

std::string problem_name(const Problem& p) {
  return std::to_string(p.heads) + "h" + std::to_string(p.kv_heads) + "kv" + std::to_string(p.head_dim) + "d" +
         std::to_string(p.block_size) + "bs" + std::string(dtype_name(p.kv_dtype));
}

AttentionShape shape_of(const Problem& p) { return {p.heads, p.kv_heads, p.head_dim, p.block_size, p.kv_dtype}; }

// Runs the test for kernels the CPU and shape allow; Portable always runs.
bool kernel_runs(AttentionKernel kernel, const Problem& p) { return attention_kernel_supported(kernel, shape_of(p)); }

float round_to(DType t, float x) {
  float y;
  std::vector<uint8_t> bytes(dtype_size(t));
  dtype_from_f32(t, &x, bytes.data(), 1);
  dtype_to_f32(t, bytes.data(), &y, 1);
  return y;
}

// One sequence's keys and values at positions [0, len), [len, kv_heads,
// head_dim], contiguous and already rounded to the cache dtype, and the
// block table that places them in a cache array.
struct PagedSequence {
  std::vector<float> k, v;
  std::vector<BlockId> table;
};

// Stores keys (is_k) or values [len, kv_heads, head_dim] where KvStorage keeps them.
void store(const Problem& p, const std::vector<float>& src, const std::vector<BlockId>& table, int64_t len,
           bool is_k, uint8_t* cache) {
  const int64_t row = p.kv_heads * p.head_dim, bs = p.block_size;
  const size_t elem = dtype_size(p.kv_dtype);
  for (int64_t pos = 0; pos < len; ++pos) {
    const int64_t slot = kv_slot(table, bs, pos);
    for (int64_t h = 0; h < p.kv_heads; ++h) {
      for (int64_t d = 0; d < p.head_dim; ++d) {
        const int64_t word = kv_word_values(p.kv_dtype);
        const int64_t at = is_k ? k_element(slot, bs, p.kv_heads, p.head_dim, h, d, word)
                                : v_element(slot, bs, p.kv_heads, p.head_dim, h, d, word);
        dtype_from_f32(p.kv_dtype, &src[pos * row + h * p.head_dim + d], cache + at * elem, 1);
      }
    }
  }
}

// A cache of `num_blocks` blocks and a block allocator handing out shuffled ids.
struct Cache {
  // KvStorage's readable tail: vector loads of a bf16 V read one value past
  // a token's dims.
  static constexpr size_t kTail = kKvReadableTail;
  std::vector<uint8_t> kv;  // [num_blocks, 2 (K, V), kv_heads, block_size * head_dim], as KvStorage's layers, + kTail
  uint8_t* k = nullptr;     // where kv_head_run() offsets start: K
  uint8_t* v = nullptr;     // and V, one half block on
  std::vector<BlockId> free_blocks;

  Cache(const Problem& p, int64_t num_blocks, std::mt19937& rng)
      : kv(2 * num_blocks * p.block_size * p.kv_heads * p.head_dim * dtype_size(p.kv_dtype) + kTail),
        k(kv.data()), v(kv.data() + (kv.size() - kTail) / num_blocks / 2), free_blocks(num_blocks) {
    std::iota(free_blocks.begin(), free_blocks.end(), 0);
    std::shuffle(free_blocks.begin(), free_blocks.end(), rng);
  }
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;

  // A sequence of `len` random positions, stored.
  PagedSequence add(const Problem& p, int64_t len, std::mt19937& rng) {
    std::normal_distribution<float> dist(0.0f, 1.5f);
    PagedSequence s;
    for (int64_t b = 0; b < (len + p.block_size - 1) / p.block_size; ++b) {
      s.table.push_back(free_blocks.back());
      free_blocks.pop_back();
    }
    s.k.resize(len * p.kv_heads * p.head_dim);
    s.v.resize(s.k.size());
    for (auto& x : s.k) x = round_to(p.kv_dtype, dist(rng));
    for (auto& x : s.v) x = round_to(p.kv_dtype, dist(rng));
    store(p, s.k, s.table, len, true, k);
    store(p, s.v, s.table, len, false, v);
    return s;
  }

  // A sequence of `len` positions whose first `shared` (whole blocks) are
  // `parent`'s, in its blocks, as a fork or a prefix-cache hit leaves them;
  // the rest random, in blocks of its own.
  PagedSequence fork(const Problem& p, const PagedSequence& parent, int64_t shared, int64_t len, std::mt19937& rng) {
    const int64_t row = p.kv_heads * p.head_dim;
    PagedSequence s = add(p, len, rng);
    for (int64_t b = 0; b < shared / p.block_size; ++b) {
      free_blocks.push_back(s.table[b]);
      s.table[b] = parent.table[b];
    }
    std::copy_n(parent.k.begin(), shared * row, s.k.begin());
    std::copy_n(parent.v.begin(), shared * row, s.v.begin());
    return s;
  }
};

// out[t] for query token t at position start + t, attending [0, start + t].
std::vector<double> naive(const Problem& p, const float* q, const PagedSequence& s, int64_t start, int64_t n) {
  const int64_t hd = p.head_dim, group = p.heads / p.kv_heads;
  std::vector<double> out(n * p.heads * hd, 0.0);
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t h = 0; h < p.heads; ++h) {
      const int64_t g = h / group;
      const int64_t visible = start + t + 1;
      std::vector<double> scores(visible);
      for (int64_t j = 0; j < visible; ++j) {
        double dot = 0;
        for (int64_t d = 0; d < hd; ++d) dot += double(q[(t * p.heads + h) * hd + d]) * s.k[(j * p.kv_heads + g) * hd + d];
        scores[j] = dot / std::sqrt(double(hd));
      }
      const double mx = *std::max_element(scores.begin(), scores.end());
      double sum = 0;
      for (auto& x : scores) sum += (x = std::exp(x - mx));
      for (int64_t j = 0; j < visible; ++j) {
        for (int64_t d = 0; d < hd; ++d) {
          out[(t * p.heads + h) * hd + d] += scores[j] / sum * s.v[(j * p.kv_heads + g) * hd + d];
        }
      }
    }
  }
  return out;
}

// The q the naive reference takes to meet `kernel`'s: Avx512Bf16 rounds
// q, scaled by log2(e) / sqrt(head_dim), to bf16; scaled back, the
// reference's scores are the kernel's to f32 rounding.
std::vector<float> reference_q(AttentionKernel kernel, const Problem& p, std::vector<float> q) {
  if (kernel != AttentionKernel::Avx512Bf16) return q;
  const auto scale = static_cast<float>(std::numbers::log2e / std::sqrt(static_cast<double>(p.head_dim)));
  for (auto& x : q) x = static_cast<float>(double(bf16_to_f32(f32_to_bf16(x * scale))) / scale);
  return q;
}

// How far `kernel`'s output may lie from the naive reference's (given
// reference_q): `f32` for the f32 kernels; Avx512Bf16 also computes each
// softmax weight p_j to within 1e-4 (exp2_bf16_avx512) and rounds it to bf16
// (2^-9), and divides by their sum: a weight p_j / Σ p moves by at most
// 2 (2^-9 + 1e-4) of itself, an output by at most that times max |v|.
double tolerance(AttentionKernel kernel, double f32, const std::vector<float>& v) {
  if (kernel != AttentionKernel::Avx512Bf16) return f32;
  float most = 0.0f;
  for (const float x : v) most = std::max(most, std::abs(x));
  return f32 + 2 * (std::ldexp(1.0, -9) + 1e-4) * most;
}

std::vector<float> random_q(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.5f);
  std::vector<float> q(n);
  for (auto& x : q) x = dist(rng);
  return q;
}

const Problem kProblems[] = {
    {4, 2, 16, 16, DType::F32},   {4, 2, 16, 16, DType::BF16},
    {6, 1, 32, 8, DType::BF16},   // MQA, group 6
    {3, 3, 64, 1, DType::F32},    // MHA, block size 1
    {8, 2, 24, 32, DType::BF16},  // head_dim not a multiple of 16: portable only
    {9, 3, 64, 16, DType::BF16},  // SmolLM-135M: group 3
    {8, 2, 64, 16, DType::F32},   // group 4
    {4, 1, 128, 16, DType::BF16},  // MQA, head_dim 128
    {4, 4, 128, 7, DType::F32},   // MHA, head_dim 128, odd block size
    {6, 2, 80, 16, DType::BF16},  // head_dim 80 (16 but not 32 dims a step)
    {4, 2, 48, 5, DType::F32},    // head_dim 48
    {4, 2, 20, 16, DType::BF16},  // head_dim 20
    {4, 2, 16, 16, DType::F16},   // f16 KV: portable only
    {6, 2, 64, 128, DType::BF16},  // a block holds two key tiles
    {4, 2, 64, 16, DType::BF16},   // group 2: the small-cluster path with 2 rows per KV head
    {3, 3, 32, 32, DType::BF16},   // MHA, head_dim 32: the small-cluster path with 1 row per KV head
    {4, 2, 32, 2, DType::BF16},    // bf16 pairs of tokens in blocks of 2 (gathered)
    {2, 1, 64, 1, DType::BF16},    // a bf16 block of one token: V without pairs (gathered)
};

struct KernelProblem {
  AttentionKernel kernel;
  Problem problem;
};

std::vector<KernelProblem> all_cases() {
  std::vector<KernelProblem> cases;
  for (const auto kernel :
       {AttentionKernel::Portable, AttentionKernel::Avx2, AttentionKernel::Avx512, AttentionKernel::Avx512Bf16}) {
    for (const auto& p : kProblems) cases.push_back({kernel, p});
  }
  return cases;
}

std::string case_name(const ::testing::TestParamInfo<KernelProblem>& info) {
  std::string kernel = attention_kernel_name(info.param.kernel);
  const auto not_alnum = [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); };
  std::replace_if(kernel.begin(), kernel.end(), not_alnum, '_');
  return kernel + "_" + problem_name(info.param.problem);
}

class AttentionTest : public ::testing::TestWithParam<KernelProblem> {};

// Sequences given as (start position, tokens in this call).
using Layout = std::vector<std::pair<int64_t, int64_t>>;

TEST_P(AttentionTest, MatchesNaiveSoftmaxAttention) {
  const auto [kernel, p] = GetParam();
  if (!kernel_runs(kernel, p)) GTEST_SKIP() << "kernel not available for this CPU or shape";
  std::mt19937 rng(42);
  const int64_t qrow = p.heads * p.head_dim;
  Cache cache(p, 512 / p.block_size + 64, rng);
  // A decode token at 97, a 37-token chunk from 20, a 1-token prompt, and a
  // 70-token prompt (three key tiles, three query blocks).
  const Layout layout = {{97, 1}, {20, 37}, {0, 1}, {0, 70}};
  std::vector<PagedSequence> seqs;
  std::vector<AttentionSequence> calls;
  int64_t rows = 0;
  for (const auto& [start, n] : layout) seqs.push_back(cache.add(p, start + n, rng));
  for (size_t i = 0; i < layout.size(); ++i) {
    calls.push_back({rows, layout[i].second, layout[i].first, seqs[i].table});
    rows += layout[i].second;
  }
  const std::vector<float> q = random_q(rows * qrow, 5), ref_q = reference_q(kernel, p, q);
  std::vector<float> out(rows * qrow);
  paged_attention(kernel, shape_of(p), calls, q.data(), cache.k, cache.v, out.data());
  for (size_t i = 0; i < layout.size(); ++i) {
    const auto [start, n] = layout[i];
    const auto ref = naive(p, ref_q.data() + calls[i].first_row * qrow, seqs[i], start, n);
    const double tol = tolerance(kernel, 2e-5, seqs[i].v);
    for (int64_t e = 0; e < n * qrow; ++e) {
      ASSERT_NEAR(out[calls[i].first_row * qrow + e], ref[e], tol) << "seq " << i << " element " << e;
    }
  }
}

// Slots past a sequence's last position (a later chunk's, or a reused
// block's earlier owner's) never reach its output: filled with NaN, the
// decode of each of its positions gives the bits it gives over zeros. The
// dot form's last pair of keys holds one such slot whenever a row sees an
// odd number of keys.
TEST_P(AttentionTest, SlotsPastTheSequenceNeverReachTheOutput) {
  const auto [kernel, p] = GetParam();
  if (!kernel_runs(kernel, p)) GTEST_SKIP() << "kernel not available for this CPU or shape";
  std::mt19937 rng(13);
  const int64_t len = 75, qrow = p.heads * p.head_dim, bs = p.block_size;
  Cache cache(p, 128 / bs + 4, rng);
  const PagedSequence s = cache.add(p, len, rng);
  const std::vector<float> q = random_q(len * qrow, 17);
  const auto decode_all = [&] {
    std::vector<float> out(len * qrow);
    for (int64_t t = 0; t < len; ++t) {
      const AttentionSequence call{0, 1, t, s.table};
      paged_attention(kernel, shape_of(p), {&call, 1}, q.data() + t * qrow, cache.k, cache.v, out.data() + t * qrow);
    }
    return out;
  };
  const std::vector<float> clean = decode_all();
  // NaN in every slot of the sequence's blocks past its last position.
  const int64_t slots = std::ssize(s.table) * bs - len;
  std::vector<float> k = s.k, v = s.v;
  k.resize(k.size() + slots * p.kv_heads * p.head_dim, std::numeric_limits<float>::quiet_NaN());
  v.resize(k.size(), std::numeric_limits<float>::quiet_NaN());
  store(p, k, s.table, len + slots, true, cache.k);
  store(p, v, s.table, len + slots, false, cache.v);
  const std::vector<float> dirty = decode_all();
  for (const float x : dirty) ASSERT_TRUE(std::isfinite(x));
  EXPECT_EQ(std::memcmp(clean.data(), dirty.data(), clean.size() * sizeof(float)), 0);
}

// Scores of several hundred (q and k of norm ~ 40): the softmax is nearly
// one-hot and the running max jumps between tiles, so a rescaling bug or an
// exp that under- or overflows shows.
TEST_P(AttentionTest, PeakedSoftmaxStaysAccurate) {
  auto [kernel, p] = GetParam();
  if (!kernel_runs(kernel, p)) GTEST_SKIP() << "kernel not available for this CPU or shape";
  std::mt19937 rng(3);
  const int64_t len = 150, qrow = p.heads * p.head_dim;
  Cache cache(p, len / p.block_size + 2, rng);
  PagedSequence s = cache.add(p, len, rng);
  const float boost = 10.0f;
  for (auto& x : s.k) x = round_to(p.kv_dtype, x * boost);
  store(p, s.k, s.table, len, true, cache.k);
  std::vector<float> q = random_q(4 * qrow, 9);
  for (auto& x : q) x *= boost / std::sqrt(float(p.head_dim)) * 4;
  const AttentionSequence call{0, 4, len - 4, s.table};
  std::vector<float> out(4 * qrow);
  paged_attention(kernel, shape_of(p), {&call, 1}, q.data(), cache.k, cache.v, out.data());
  const auto ref = naive(p, reference_q(kernel, p, q).data(), s, len - 4, 4);
  const double tol = tolerance(kernel, 1e-4, s.v);
  for (int64_t e = 0; e < 4 * qrow; ++e) ASSERT_NEAR(out[e], ref[e], tol) << "element " << e;
}

// Bitwise invariance: the output of the `len` tokens of one sequence
//   computed each alone (a decode step at its position) is the reference;
//   then the whole prompt in one call, chunked into calls of 1, 7, 16 and
//   64 tokens, each chunk beside two other sequences, and the same keys
//   and values stored with block sizes 1 and 32 must all give those bits.
TEST_P(AttentionTest, OutputBitsDependOnlyOnTheToken) {
  const auto [kernel, p] = GetParam();
  if (!kernel_runs(kernel, p)) GTEST_SKIP() << "kernel not available for this CPU or shape";
  std::mt19937 rng(11);
  const int64_t len = 100, qrow = p.heads * p.head_dim;
  Cache cache(p, 2 * len + 16, rng);
  const PagedSequence s = cache.add(p, len, rng);
  const PagedSequence other1 = cache.add(p, 45, rng), other2 = cache.add(p, 3, rng);
  const std::vector<float> q = random_q(len * qrow, 13);
  const std::vector<float> noise = random_q(60 * qrow, 17);

  std::vector<float> alone(len * qrow);
  for (int64_t pos = 0; pos < len; ++pos) {
    const AttentionSequence single{0, 1, pos, s.table};
    paged_attention(kernel, shape_of(p), {&single, 1}, q.data() + pos * qrow, cache.k, cache.v,
                    alone.data() + pos * qrow);
  }
  auto expect_same = [&](const float* got, int64_t first, int64_t n, const std::string& what) {
    for (int64_t t = 0; t < n; ++t) {
      EXPECT_EQ(std::memcmp(got + t * qrow, alone.data() + (first + t) * qrow, qrow * sizeof(float)), 0)
          << what << ", position " << first + t;
    }
  };

  std::vector<float> out(len * qrow);
  const AttentionSequence whole{0, len, 0, s.table};
  paged_attention(kernel, shape_of(p), {&whole, 1}, q.data(), cache.k, cache.v, out.data());
  expect_same(out.data(), 0, len, "whole prompt");

  for (int64_t chunk : {1, 7, 16, 64}) {
    for (int64_t begin = 0; begin < len; begin += chunk) {
      const int64_t n = std::min(chunk, len - begin);
      // Rows: 2 tokens of other1 (a chunk ending at 45), this chunk, other2's decode token.
      std::vector<float> batch_q(noise.begin(), noise.begin() + 3 * qrow);
      batch_q.insert(batch_q.begin() + 2 * qrow, q.begin() + begin * qrow, q.begin() + (begin + n) * qrow);
      const std::vector<AttentionSequence> calls = {
          {0, 2, 43, other1.table}, {2, n, begin, s.table}, {2 + n, 1, 2, other2.table}};
      std::vector<float> batch_out(batch_q.size());
      paged_attention(kernel, shape_of(p), calls, batch_q.data(), cache.k, cache.v, batch_out.data());
      expect_same(batch_out.data() + 2 * qrow, begin, n, "chunk " + std::to_string(chunk));
    }
  }

  {
    // Beside 40 one-token sequences: enough items that each takes every KV
    // head at once (plan_attention), where alone they took one.
    std::vector<AttentionSequence> calls = {{0, len, 0, s.table}};
    std::vector<PagedSequence> others;
    for (int i = 0; i < 40; ++i) others.push_back(cache.add(p, 1, rng));
    for (const auto& o : others) calls.push_back({static_cast<int64_t>(calls.size()) - 1 + len, 1, 0, o.table});
    std::vector<float> batch_q(q);
    batch_q.insert(batch_q.end(), noise.begin(), noise.begin() + 40 * qrow);
    std::vector<float> batch_out(batch_q.size());
    ASSERT_EQ(plan_attention(shape_of(p), calls, 2).items.front().kv_head_end, p.kv_heads);
    paged_attention(kernel, shape_of(p), calls, batch_q.data(), cache.k, cache.v, batch_out.data());
    expect_same(batch_out.data(), 0, len, "beside 40 decode tokens");
  }

  for (int64_t block_size : {int64_t{1}, int64_t{32}}) {
    Problem q_problem = p;
    q_problem.block_size = block_size;
    std::mt19937 other_rng(19);
    Cache other_cache(q_problem, len / block_size + 4, other_rng);
    PagedSequence moved;
    for (int64_t b = 0; b < (len + block_size - 1) / block_size; ++b) {
      moved.table.push_back(other_cache.free_blocks.back());
      other_cache.free_blocks.pop_back();
    }
    store(q_problem, s.k, moved.table, len, true, other_cache.k);
    store(q_problem, s.v, moved.table, len, false, other_cache.v);
    const AttentionSequence call{0, len, 0, moved.table};
    paged_attention(kernel, shape_of(q_problem), {&call, 1}, q.data(), other_cache.k, other_cache.v,
                    out.data());
    expect_same(out.data(), 0, len, "block size " + std::to_string(block_size));
  }
}

// Sequences sharing blocks (forks of one prompt, prefix-cache hits) are
// computed together wherever they share a tile: every token still gets the
// bits it gets alone, and the naive reference's values.
TEST_P(AttentionTest, SequencesSharingBlocksGetTheirBitsAlone) {
  const auto [kernel, p] = GetParam();
  if (!kernel_runs(kernel, p)) GTEST_SKIP() << "kernel not available for this CPU or shape";
  std::mt19937 rng(31);
  const int64_t qrow = p.heads * p.head_dim, shared = 200 / p.block_size * p.block_size;
  Cache cache(p, 4000 / p.block_size + 64, rng);
  const PagedSequence parent = cache.add(p, 200, rng);
  std::vector<PagedSequence> seqs = {parent};
  for (int64_t i = 0; i < 24; ++i) seqs.push_back(cache.fork(p, parent, shared, shared + 1 + i * 37 % 60, rng));
  // Each sequence decodes its last position; the last one runs a 20-token chunk.
  std::vector<AttentionSequence> calls;
  int64_t rows = 0;
  for (const auto& seq : seqs) {
    const int64_t len = std::ssize(seq.k) / (p.kv_heads * p.head_dim);
    const int64_t n = &seq == &seqs.back() ? 20 : 1;
    calls.push_back({rows, n, len - n, seq.table});
    rows += n;
  }
  const std::vector<float> q = random_q(rows * qrow, 37), ref_q = reference_q(kernel, p, q);
  std::vector<float> batch(rows * qrow), alone(rows * qrow);
  paged_attention(kernel, shape_of(p), calls, q.data(), cache.k, cache.v, batch.data());
  for (const auto& call : calls) {
    for (int64_t t = 0; t < call.num_tokens; ++t) {
      const AttentionSequence single{0, 1, call.start_position + t, call.block_table};
      const int64_t at = (call.first_row + t) * qrow;
      paged_attention(kernel, shape_of(p), {&single, 1}, q.data() + at, cache.k, cache.v, alone.data() + at);
    }
  }
  for (size_t i = 0; i < calls.size(); ++i) {
    const auto& call = calls[i];
    const int64_t at = call.first_row * qrow;
    EXPECT_EQ(std::memcmp(batch.data() + at, alone.data() + at, call.num_tokens * qrow * sizeof(float)), 0)
        << "sequence " << i;
    const auto ref = naive(p, ref_q.data() + at, seqs[i], call.start_position, call.num_tokens);
    const double tol = tolerance(kernel, 2e-5, seqs[i].v);
    for (int64_t e = 0; e < call.num_tokens * qrow; ++e) {
      ASSERT_NEAR(batch[at + e], ref[e], tol) << "sequence " << i << " element " << e;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, AttentionTest, ::testing::ValuesIn(all_cases()), case_name);

// Every (sequence, token, KV head) lands in exactly one item; an item's
// pieces share their first block and hold at most kAttentionQueryBlock
// tokens; items take one KV head only where that shortens the schedule by
// more than 10%, and run the costliest first.
TEST(AttentionPlanTest, CoversEveryTokenAndHeadOnce) {
  const AttentionShape shape{12, 4, 64, 16, DType::BF16};
  std::vector<std::vector<BlockId>> tables;
  for (BlockId b = 0; b < 50; ++b) tables.push_back({b, 100 + b, 200 + b, 300 + b, 400 + b});
  for (BlockId b = 0; b < 30; ++b) tables.push_back({1000, 1001, 500 + b});  // sharing their first two blocks
  // Tokens × keys of an item, per KV head.
  auto cost = [](const AttentionItem& item) {
    int64_t c = 0;
    for (const auto& piece : item.pieces) {
      c += (piece.token_end - piece.token_begin) * (piece.sequence->start_position + piece.token_end);
    }
    return c;
  };
  for (const int64_t decodes : {int64_t{3}, int64_t{40}}) {
    std::vector<AttentionSequence> seqs = {{0, 70, 10, tables[0]}};  // a prefill chunk: 3 query blocks
    for (int64_t i = 0; i < decodes; ++i) seqs.push_back({70 + i, 1, 5 * i % 60, tables[1 + i]});
    for (int64_t i = 0; i < decodes; ++i) seqs.push_back({70 + decodes + i, 1, 40, tables[50 + i % 30]});
    for (const int threads : {1, 2, 8, 64}) {
      const AttentionPlan plan = plan_attention(shape, seqs, threads);
      std::vector<int> seen(seqs.size() * 70 * shape.num_kv_heads, 0);
      for (const auto& item : plan.items) {
        EXPECT_EQ(item.kv_head_end - item.kv_head_begin, plan.items.front().kv_head_end - plan.items.front().kv_head_begin);
        int64_t tokens = 0;
        for (const auto& piece : item.pieces) {
          tokens += piece.token_end - piece.token_begin;
          EXPECT_EQ(piece.sequence->block_table.front(), item.pieces.front().sequence->block_table.front());
          const auto index = piece.sequence - seqs.data();
          for (int64_t t = piece.token_begin; t < piece.token_end; ++t) {
            for (int64_t h = item.kv_head_begin; h < item.kv_head_end; ++h) {
              ++seen[(index * 70 + t) * shape.num_kv_heads + h];
            }
          }
        }
        EXPECT_LE(tokens, kAttentionQueryBlock);
      }
      // The schedule of the items as cut, against the other cut.
      const bool split = plan.items.front().kv_head_end - plan.items.front().kv_head_begin == 1;
      std::vector<int64_t> costs, other;
      for (const auto& item : plan.items) {
        const int64_t c = cost(item);
        costs.push_back(c * (item.kv_head_end - item.kv_head_begin));
        if (split && item.kv_head_begin == 0) other.push_back(c * shape.num_kv_heads);
        if (!split) other.insert(other.end(), shape.num_kv_heads, c);
      }
      const int64_t mine = attention_schedule_length(costs, threads);
      const int64_t theirs = attention_schedule_length(other, threads);
      if (split) {
        EXPECT_LT(10 * mine, 9 * theirs) << "threads " << threads;
      } else {
        EXPECT_GE(10 * theirs, 9 * mine) << "threads " << threads;
      }
      for (size_t i = 0; i < seqs.size(); ++i) {
        for (int64_t t = 0; t < 70; ++t) {
          for (int64_t h = 0; h < shape.num_kv_heads; ++h) {
            EXPECT_EQ(seen[(i * 70 + t) * shape.num_kv_heads + h], t < seqs[i].num_tokens ? 1 : 0)
                << "sequence " << i << " token " << t << " head " << h << " threads " << threads;
          }
        }
      }
      EXPECT_TRUE(std::is_sorted(plan.items.begin(), plan.items.end(),
                                 [&](const auto& a, const auto& b) { return cost(a) > cost(b); }));
    }
  }
}

// Largest first, each to the least loaded thread.
TEST(AttentionPlanTest, ScheduleLengthIsTheLongestThreadsTotal) {
  EXPECT_EQ(attention_schedule_length({}, 2), 0);
  EXPECT_EQ(attention_schedule_length({5}, 2), 5);
  EXPECT_EQ(attention_schedule_length({2, 3, 2, 3, 2}, 2), 7);  // 3 + 2 + 2 against 3 + 2
  EXPECT_EQ(attention_schedule_length({4, 4, 4}, 2), 8);
  EXPECT_EQ(attention_schedule_length({4, 4, 4}, 3), 4);
  EXPECT_EQ(attention_schedule_length({1, 1, 1, 1}, 1), 4);
}

// One sequence's decode token, or three, on 2 threads: an item per KV head
// ends the step sooner. Two equal groups of forks on 2 threads, or 40
// sequences: items of every head.
TEST(AttentionPlanTest, SplitsHeadsOnlyWhereTheThreadsWouldWait) {
  const AttentionShape shape{9, 3, 64, 16, DType::BF16};
  auto heads_per_item = [&](const std::vector<AttentionSequence>& seqs) {
    const AttentionPlan plan = plan_attention(shape, seqs, 2);
    return plan.items.front().kv_head_end - plan.items.front().kv_head_begin;
  };
  std::vector<std::vector<BlockId>> own;
  for (BlockId b = 0; b < 40; ++b) own.push_back({b, 100 + b});
  const std::vector<BlockId> shared = {500, 501, 502};
  std::vector<AttentionSequence> seqs;
  for (int64_t i = 0; i < 40; ++i) seqs.push_back({i, 1, 20, own[i]});
  EXPECT_EQ(heads_per_item({seqs.begin(), seqs.begin() + 1}), 1);
  EXPECT_EQ(heads_per_item({seqs.begin(), seqs.begin() + 3}), 1);
  EXPECT_EQ(heads_per_item(seqs), 3);
  std::vector<AttentionSequence> forks;
  for (int64_t i = 0; i < 64; ++i) forks.push_back({i, 1, 40, shared});
  EXPECT_EQ(heads_per_item(forks), 3);  // 2 groups of 32 tokens
}

// Sharing sequences are grouped up to kAttentionQueryBlock tokens, or up to
// the step's tokens per thread where that is fewer: 16 forks on 2 threads
// make 2 items of 8 (of every head), 64 make 2 of 32, 3 make 2 and 1.
TEST(AttentionPlanTest, GroupsAreCutForTheThreads) {
  const AttentionShape shape{9, 3, 64, 16, DType::BF16};
  const std::vector<BlockId> shared = {500, 501, 502};
  for (const auto& [forks, threads, want] : std::vector<std::tuple<int64_t, int, std::vector<int64_t>>>{
           {16, 2, {8, 8}}, {64, 2, {32, 32}}, {16, 4, {4, 4, 4, 4}}, {3, 2, {2, 1}}}) {
    std::vector<AttentionSequence> seqs;
    for (int64_t i = 0; i < forks; ++i) seqs.push_back({i, 1, 40, shared});
    const AttentionPlan plan = plan_attention(shape, seqs, threads);
    std::vector<int64_t> sizes;
    for (const auto& item : plan.items) {
      if (item.kv_head_begin == 0) sizes.push_back(std::ssize(item.pieces));
    }
    EXPECT_EQ(sizes, want) << forks << " forks, " << threads << " threads";
  }
}

// Decode tokens of sequences sharing their first block go into as few items
// as the query block allows, cut evenly (40 -> 20 + 20); the others stay alone.
TEST(AttentionPlanTest, GroupsSequencesSharingTheirFirstBlock) {
  const AttentionShape shape{9, 3, 64, 16, DType::BF16};
  std::vector<std::vector<BlockId>> tables;
  for (BlockId b = 0; b < 40; ++b) tables.push_back({7, 8, 100 + b});
  for (BlockId b = 0; b < 5; ++b) tables.push_back({200 + b});
  std::vector<AttentionSequence> seqs;
  for (size_t i = 0; i < tables.size(); ++i) seqs.push_back({std::ssize(seqs), 1, 40, tables[(i * 7) % tables.size()]});
  const AttentionPlan plan = plan_attention(shape, seqs, 2);
  std::vector<int64_t> sizes;
  for (const auto& item : plan.items) {
    if (item.kv_head_begin == 0) sizes.push_back(std::ssize(item.pieces));
  }
  std::sort(sizes.begin(), sizes.end());
  EXPECT_EQ(sizes, (std::vector<int64_t>{1, 1, 1, 1, 1, 20, 20}));
}

// Both kernels agree to float rounding: the choice between them changes
// bits, never results.
TEST(AttentionKernelTest, KernelsAgree) {
  const Problem p{9, 3, 64, 16, DType::BF16};
  if (!kernel_runs(AttentionKernel::Avx2, p)) GTEST_SKIP() << "no AVX2 + FMA";
  std::mt19937 rng(23);
  const int64_t len = 90, qrow = p.heads * p.head_dim;
  Cache cache(p, len / p.block_size + 2, rng);
  const PagedSequence s = cache.add(p, len, rng);
  const std::vector<float> q = random_q(len * qrow, 29);
  std::vector<float> portable(len * qrow), avx2(len * qrow);
  const AttentionSequence call{0, len, 0, s.table};
  paged_attention(AttentionKernel::Portable, shape_of(p), {&call, 1}, q.data(), cache.k, cache.v,
                  portable.data());
  paged_attention(AttentionKernel::Avx2, shape_of(p), {&call, 1}, q.data(), cache.k, cache.v,
                  avx2.data());
  for (int64_t e = 0; e < len * qrow; ++e) ASSERT_NEAR(avx2[e], portable[e], 1e-5) << e;
}

// The AVX-512 form computes the same chains as the AVX2 kernel: the same
// bits, for every shape both run, in a mixed step of prefill chunks, decode
// tokens and forks sharing blocks.
TEST(AttentionKernelTest, Avx512GivesAvx2Bits) {
  for (const Problem& p : kProblems) {
    if (!kernel_runs(AttentionKernel::Avx512, p)) continue;
    std::mt19937 rng(31);
    const int64_t qrow = p.heads * p.head_dim;
    Cache cache(p, 400 / p.block_size + 8, rng);
    const PagedSequence a = cache.add(p, 150, rng), b = cache.add(p, 77, rng);
    // (first q row, tokens, start position, table): a's last 40 tokens as a
    // prefill chunk, b decoding its last token twice (a fork), a decode of a.
    const std::vector<AttentionSequence> calls = {
        {0, 40, 110, a.table}, {40, 1, 76, b.table}, {41, 1, 76, b.table}, {42, 1, 149, a.table}};
    const std::vector<float> q = random_q(43 * qrow, 37);
    std::vector<float> avx2(q.size()), avx512(q.size());
    paged_attention(AttentionKernel::Avx2, shape_of(p), calls, q.data(), cache.k, cache.v, avx2.data());
    paged_attention(AttentionKernel::Avx512, shape_of(p), calls, q.data(), cache.k, cache.v, avx512.data());
    EXPECT_EQ(std::memcmp(avx2.data(), avx512.data(), q.size() * sizeof(float)), 0) << problem_name(p);
  }
}

// A step is planned once and run for every layer: one plan over two layers'
// caches gives each the bits that planning the call itself gives, with the
// kernel attention_kernel() picks or a given one.
TEST(AttentionKernelTest, OnePlanServesEveryLayer) {
  const Problem p{9, 3, 64, 16, DType::BF16};
  std::mt19937 ids0(41), ids1(41), rng(42);  // the same block ids in both layers, other values
  const int64_t qrow = p.heads * p.head_dim;
  Cache layer0(p, 64, ids0), layer1(p, 64, ids1);
  const PagedSequence a0 = layer0.add(p, 150, rng), b0 = layer0.add(p, 40, rng);
  const PagedSequence a1 = layer1.add(p, 150, rng), b1 = layer1.add(p, 40, rng);
  ASSERT_EQ(a0.table, a1.table);
  ASSERT_EQ(b0.table, b1.table);
  ASSERT_NE(a0.k, a1.k);
  const std::vector<AttentionSequence> calls = {{0, 1, 149, a0.table}, {1, 8, 32, b0.table}};
  const std::vector<float> q = random_q(9 * qrow, 43);
  const AttentionPlan plan = plan_attention(shape_of(p), calls, 2);
  for (Cache* layer : {&layer0, &layer1}) {
    std::vector<float> planned(q.size()), direct(q.size());
    paged_attention(shape_of(p), plan, q.data(), layer->k, layer->v, planned.data());
    paged_attention(attention_kernel(shape_of(p)), shape_of(p), calls, q.data(), layer->k, layer->v, direct.data());
    EXPECT_EQ(std::memcmp(planned.data(), direct.data(), q.size() * sizeof(float)), 0);
    // A plan runs on any kernel the CPU has, to that kernel's own bits.
    for (const auto kernel :
         {AttentionKernel::Portable, AttentionKernel::Avx2, AttentionKernel::Avx512, AttentionKernel::Avx512Bf16}) {
      if (!kernel_runs(kernel, p)) continue;
      std::vector<float> kernel_planned(q.size()), kernel_direct(q.size());
      paged_attention(kernel, shape_of(p), plan, q.data(), layer->k, layer->v, kernel_planned.data());
      paged_attention(kernel, shape_of(p), calls, q.data(), layer->k, layer->v, kernel_direct.data());
      EXPECT_EQ(std::memcmp(kernel_planned.data(), kernel_direct.data(), q.size() * sizeof(float)), 0)
          << attention_kernel_name(kernel);
    }
  }
}

TEST(AttentionKernelTest, PicksTheWidestKernelTheCpuAndShapeAllow) {
  const bool cpu = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool wide = cpu && __builtin_cpu_supports("avx512f");
  const bool dot = wide && __builtin_cpu_supports("avx512bf16");
  const auto widest = wide ? AttentionKernel::Avx512 : cpu ? AttentionKernel::Avx2 : AttentionKernel::Portable;
  const auto widest_bf16 = dot ? AttentionKernel::Avx512Bf16 : widest;  // bf16 dot products need a bf16 cache
  EXPECT_EQ(attention_kernel({9, 3, 64, 16, DType::BF16}), widest_bf16);
  EXPECT_EQ(attention_kernel({32, 8, 128, 16, DType::F32}), widest);
  EXPECT_EQ(attention_kernel({6, 2, 80, 1, DType::BF16}), widest_bf16);
  EXPECT_EQ(attention_kernel({8, 2, 24, 16, DType::BF16}), AttentionKernel::Portable);
  EXPECT_EQ(attention_kernel({4, 2, 64, 16, DType::F16}), AttentionKernel::Portable);
  EXPECT_STREQ(attention_kernel_name(AttentionKernel::Portable), "portable");
  EXPECT_STREQ(attention_kernel_name(AttentionKernel::Avx2), "avx2+fma");
  EXPECT_STREQ(attention_kernel_name(AttentionKernel::Avx512), "avx512");
  EXPECT_STREQ(attention_kernel_name(AttentionKernel::Avx512Bf16), "avx512-bf16");
  const AttentionShape bf16{9, 3, 64, 16, DType::BF16}, f32{9, 3, 64, 16, DType::F32};
  EXPECT_TRUE(attention_kernel_supported(AttentionKernel::Portable, {8, 2, 24, 16, DType::F16}));
  EXPECT_EQ(attention_kernel_supported(AttentionKernel::Avx2, f32), cpu);
  EXPECT_EQ(attention_kernel_supported(AttentionKernel::Avx512, f32), wide);
  EXPECT_EQ(attention_kernel_supported(AttentionKernel::Avx512Bf16, bf16), dot);
  EXPECT_FALSE(attention_kernel_supported(AttentionKernel::Avx512Bf16, f32));
  EXPECT_FALSE(attention_kernel_supported(AttentionKernel::Avx2, {8, 2, 24, 16, DType::BF16}));
}

// A vector kernel asked for a shape it cannot run (head_dim 24, f16 KV; an
// f32 KV cache for the bf16 dot products) is refused, on any CPU, with both
// entry points.
TEST(AttentionKernelTest, VectorKernelsRefuseShapesTheyCannotRun) {
  for (const Problem& p :
       {Problem{8, 2, 24, 16, DType::BF16}, Problem{4, 2, 16, 16, DType::F16}, Problem{4, 2, 16, 16, DType::F32}}) {
    std::mt19937 rng(5);
    Cache cache(p, 4, rng);
    const PagedSequence s = cache.add(p, 20, rng);
    const std::vector<float> q = random_q(20 * p.heads * p.head_dim, 6);
    std::vector<float> out(q.size());
    const AttentionSequence call{0, 20, 0, s.table};
    const AttentionPlan plan = plan_attention(shape_of(p), {&call, 1}, 2);
    for (const auto kernel : {AttentionKernel::Avx2, AttentionKernel::Avx512, AttentionKernel::Avx512Bf16}) {
      if (kernel_runs(kernel, p)) continue;  // only the f32 cache: runs on the f32 kernels
      EXPECT_THROW(paged_attention(kernel, shape_of(p), {&call, 1}, q.data(), cache.k, cache.v, out.data()),
                   InternalError)
          << attention_kernel_name(kernel) << " " << problem_name(p);
      EXPECT_THROW(paged_attention(kernel, shape_of(p), plan, q.data(), cache.k, cache.v, out.data()), InternalError)
          << attention_kernel_name(kernel) << " " << problem_name(p);
    }
  }
}

TEST(AttentionKernelTest, Avx2OnAnUnsupportedShapeIsAnInternalError) {
  const AttentionShape shape{4, 2, 24, 16, DType::BF16};
  std::vector<float> q(4 * 24), out(q.size());
  std::vector<uint16_t> cache(16 * 2 * 24);
  const std::vector<BlockId> table = {0};
  const AttentionSequence call{0, 1, 0, table};
  EXPECT_THROW(paged_attention(AttentionKernel::Avx2, shape, {&call, 1}, q.data(), cache.data(), cache.data(), out.data()),
               InternalError);
}

}  // namespace
}  // namespace llmbatch
