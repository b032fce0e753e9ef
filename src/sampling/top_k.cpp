#include "sampling/top_k.h"

#include <algorithm>
#include <cmath>

namespace llmbatch {

void top_k_ids(std::span<const float> logits, int64_t k, std::vector<TokenId>& out) {
  // better(a, b): a ranks before b. NaN ranks after every number, so the
  // order stays a strict weak order (what the heap needs). As a heap order
  // it keeps the worst of the k on top: the one a new token has to beat.
  const auto better = [&logits](TokenId a, TokenId b) {
    const float x = logits[a], y = logits[b];
    const bool x_nan = std::isnan(x), y_nan = std::isnan(y);
    if (x_nan || y_nan) return x_nan != y_nan ? y_nan : a < b;
    return x != y ? x > y : a < b;
  };
  out.clear();
  if (k <= 0) return;
  const auto vocab = static_cast<TokenId>(logits.size());
  for (TokenId id = 0; id < vocab; ++id) {
    if (static_cast<int64_t>(out.size()) < k) {
      out.push_back(id);
      std::push_heap(out.begin(), out.end(), better);
    } else if (!(logits[id] < logits[out.front()]) && better(id, out.front())) {  // cheap reject first
      std::pop_heap(out.begin(), out.end(), better);
      out.back() = id;
      std::push_heap(out.begin(), out.end(), better);
    }
  }
  std::sort_heap(out.begin(), out.end(), better);
}

}  // namespace llmbatch
