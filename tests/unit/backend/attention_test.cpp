// Paged attention against a naive float64 softmax attention over contiguous
// K/V, with shuffled block tables, GQA and MQA, odd lengths and block sizes.
#include "backend/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace llmbatch {
namespace {

struct Problem {
  int64_t heads, kv_heads, head_dim, block_size;
  DType kv_dtype;
};

// Keys/values of one sequence at positions [0, len): [len, kv_heads, hd],
// stored through a shuffled block table into a cache array.
struct PagedSequence {
  std::vector<float> k, v;  // contiguous, as the cache holds them (rounded for bf16)
  std::vector<BlockId> table;
};

float round_to(DType t, float x) { return t == DType::BF16 ? bf16_to_f32(f32_to_bf16(x)) : x; }

void store(const Problem& p, const std::vector<float>& src, const std::vector<BlockId>& table, int64_t len,
           std::vector<uint8_t>& cache) {
  const int64_t row = p.kv_heads * p.head_dim;
  const size_t elem = dtype_size(p.kv_dtype);
  for (int64_t pos = 0; pos < len; ++pos) {
    const int64_t slot = table[pos / p.block_size] * p.block_size + pos % p.block_size;
    dtype_from_f32(p.kv_dtype, &src[pos * row], cache.data() + slot * row * elem, row);
  }
}

// out[t] for query token t at position start + t, attending [0, start + t].
std::vector<double> naive(const Problem& p, const std::vector<float>& q, const PagedSequence& s, int64_t start,
                          int64_t n) {
  const int64_t hd = p.head_dim, group = p.heads / p.kv_heads;
  std::vector<double> out(n * p.heads * hd, 0.0);
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t h = 0; h < p.heads; ++h) {
      const int64_t g = h / group;
      const int64_t visible = start + t + 1;
      std::vector<double> scores(visible);
      for (int64_t j = 0; j < visible; ++j) {
        double dot = 0;
        for (int64_t d = 0; d < hd; ++d) {
          dot += double(q[(t * p.heads + h) * hd + d]) * s.k[(j * p.kv_heads + g) * hd + d];
        }
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

class AttentionTest : public ::testing::TestWithParam<Problem> {};

TEST_P(AttentionTest, MatchesNaiveSoftmaxAttention) {
  const Problem p = GetParam();
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0.0f, 1.5f);
  const int64_t row = p.kv_heads * p.head_dim, qrow = p.heads * p.head_dim;
  const int64_t num_blocks = 256 / p.block_size + 64;
  std::vector<uint8_t> k_cache(num_blocks * p.block_size * row * dtype_size(p.kv_dtype));
  std::vector<uint8_t> v_cache(k_cache.size());
  std::vector<BlockId> free_blocks(num_blocks);
  std::iota(free_blocks.begin(), free_blocks.end(), 0);
  std::shuffle(free_blocks.begin(), free_blocks.end(), rng);

  // Three sequences in one call: a decode token at 97, a 37-token chunk
  // starting at 20, a fresh 1-token prompt.
  const std::vector<std::pair<int64_t, int64_t>> shapes = {{97, 1}, {20, 37}, {0, 1}};
  std::vector<PagedSequence> seqs(shapes.size());
  std::vector<AttentionSequence> calls;
  int64_t rows = 0;
  for (size_t i = 0; i < shapes.size(); ++i) {
    const auto [start, n] = shapes[i];
    const int64_t len = start + n;
    auto& s = seqs[i];
    for (int64_t b = 0; b < (len + p.block_size - 1) / p.block_size; ++b) {
      s.table.push_back(free_blocks.back());
      free_blocks.pop_back();
    }
    s.k.resize(len * row);
    s.v.resize(len * row);
    for (auto& x : s.k) x = round_to(p.kv_dtype, dist(rng));
    for (auto& x : s.v) x = round_to(p.kv_dtype, dist(rng));
    store(p, s.k, s.table, len, k_cache);
    store(p, s.v, s.table, len, v_cache);
    calls.push_back({rows, n, start, s.table});
    rows += n;
  }
  std::vector<float> q(rows * qrow), out(rows * qrow);
  for (auto& x : q) x = dist(rng);
  paged_attention({p.heads, p.kv_heads, p.head_dim, p.block_size, p.kv_dtype}, calls, q.data(), k_cache.data(),
                  v_cache.data(), out.data());
  for (size_t i = 0; i < shapes.size(); ++i) {
    const auto [start, n] = shapes[i];
    const std::vector<float> q_seq(q.begin() + calls[i].first_row * qrow, q.begin() + (calls[i].first_row + n) * qrow);
    const auto ref = naive(p, q_seq, seqs[i], start, n);
    for (int64_t e = 0; e < n * qrow; ++e) {
      ASSERT_NEAR(out[calls[i].first_row * qrow + e], ref[e], 2e-5) << "seq " << i << " element " << e;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, AttentionTest,
                         ::testing::Values(Problem{4, 2, 16, 16, DType::F32}, Problem{4, 2, 16, 16, DType::BF16},
                                           Problem{6, 1, 32, 8, DType::BF16},   // MQA
                                           Problem{3, 3, 64, 1, DType::F32},    // MHA, block size 1
                                           Problem{8, 2, 24, 32, DType::BF16}));

// A query's output bits depend only on its position and the cache, not on
// the other queries of the call.
TEST(AttentionInvarianceTest, QueryAloneEqualsQueryInAChunk) {
  const Problem p{4, 2, 16, 16, DType::BF16};
  std::mt19937 rng(7);
  std::normal_distribution<float> dist;
  const int64_t len = 80, row = p.kv_heads * p.head_dim, qrow = p.heads * p.head_dim;
  std::vector<BlockId> table = {3, 0, 4, 1, 2};
  std::vector<float> k(len * row), v(len * row), q(len * qrow);
  for (auto* vec : {&k, &v, &q}) {
    for (auto& x : *vec) x = dist(rng);
  }
  std::vector<uint8_t> k_cache(5 * 16 * row * 2), v_cache(k_cache.size());
  store(p, k, table, len, k_cache);
  store(p, v, table, len, v_cache);
  const AttentionShape shape{p.heads, p.kv_heads, p.head_dim, p.block_size, p.kv_dtype};
  std::vector<float> all(len * qrow);
  const AttentionSequence whole{0, len, 0, table};
  paged_attention(shape, {&whole, 1}, q.data(), k_cache.data(), v_cache.data(), all.data());
  for (int64_t pos : {0, 31, 32, 33, 79}) {
    std::vector<float> one(qrow);
    const AttentionSequence single{0, 1, pos, table};
    paged_attention(shape, {&single, 1}, q.data() + pos * qrow, k_cache.data(), v_cache.data(), one.data());
    EXPECT_TRUE(std::equal(one.begin(), one.end(), all.begin() + pos * qrow)) << "position " << pos;
  }
}

}  // namespace
}  // namespace llmbatch
