#include "backend/cpu/onednn_linear.h"

#include <algorithm>
#include <map>
#include <string>

#include <oneapi/dnnl/dnnl.hpp>

#include "core/error.h"

namespace llmbatch {

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dt to_dnnl(DType t) { return t == DType::BF16 ? dt::bf16 : dt::f32; }

// The primitive for a tile of `rows` rows, given the packed weight layout.
dnnl::matmul::primitive_desc make_pd(int64_t rows, int64_t in, int64_t out, DType compute,
                                     const memory::desc& weights) {
  const memory::desc src({rows, in}, to_dnnl(compute), tag::ab);
  const memory::desc dst({rows, out}, dt::f32, tag::ab);
  return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, weights, dst), cpu_engine());
}

}  // namespace

struct OnednnLinear::State {
  memory packed;  // weights in the layout a full tile prefers
  // Primitives by row count, created on first use against that layout.
  mutable std::map<int64_t, dnnl::matmul> by_rows;
  mutable std::vector<uint16_t> src_bf16;  // activations rounded to bf16

  const dnnl::matmul& primitive(int64_t rows, int64_t in, int64_t out, DType compute) const {
    auto it = by_rows.find(rows);
    if (it == by_rows.end()) {
      it = by_rows.emplace(rows, dnnl::matmul(make_pd(rows, in, out, compute, packed.get_desc()))).first;
    }
    return it->second;
  }
};

OnednnLinear::OnednnLinear(const void* weight, DType weight_dtype, int64_t out_features, int64_t in_features,
               DType compute_dtype)
    : state_(std::make_unique<State>()), out_(out_features), in_(in_features), compute_(compute_dtype) {
  LLMBATCH_CHECK(compute_ == DType::F32 || (compute_ == DType::BF16 && cpu_supports_bf16_gemm()),
                 "compute dtype must be F32, or BF16 on a CPU with bf16 GEMMs (linear_compute_dtype)");
  // User weights as [K, N] in "ba" order, i.e. the HF [N, K] row-major array.
  const size_t n = static_cast<size_t>(out_) * in_;
  std::vector<float> as_f32;
  std::vector<uint16_t> as_bf16;
  const void* user_data = weight;
  if (compute_ == DType::F32 && weight_dtype != DType::F32) {
    as_f32.resize(n);
    dtype_to_f32(weight_dtype, weight, as_f32.data(), n);
    user_data = as_f32.data();
  } else if (compute_ == DType::BF16 && weight_dtype != DType::BF16) {
    as_f32.resize(n);
    dtype_to_f32(weight_dtype, weight, as_f32.data(), n);
    as_bf16.resize(n);
    dtype_from_f32(DType::BF16, as_f32.data(), as_bf16.data(), n);
    user_data = as_bf16.data();
  }
  const memory::desc user_md({in_, out_}, to_dnnl(compute_), tag::ba);
  const memory::desc any_md({in_, out_}, to_dnnl(compute_), tag::any);
  // The packed layout a full tile prefers; every other tile height is
  // created against this same layout, so the weights are packed once.
  const auto pd = make_pd(kOnednnRowTile, in_, out_, compute_, any_md);
  state_->packed = memory(pd.weights_desc(), cpu_engine());
  memory user(user_md, cpu_engine(), const_cast<void*>(user_data));
  dnnl::stream stream(cpu_engine());
  dnnl::reorder(user, state_->packed).execute(stream, user, state_->packed);
  stream.wait();
  state_->by_rows.emplace(kOnednnRowTile, dnnl::matmul(pd));
}

OnednnLinear::~OnednnLinear() = default;
OnednnLinear::OnednnLinear(OnednnLinear&&) noexcept = default;
OnednnLinear& OnednnLinear::operator=(OnednnLinear&&) noexcept = default;

std::string OnednnLinear::implementation() const {
  return make_pd(kOnednnRowTile, in_, out_, compute_, state_->packed.get_desc()).impl_info_str();
}

void OnednnLinear::forward(const float* x, int64_t rows, float* y) const {
  if (rows == 0) return;
  const void* src = x;
  if (compute_ == DType::BF16) {
    const size_t n = static_cast<size_t>(rows) * in_;
    if (state_->src_bf16.size() < n) state_->src_bf16.resize(n);
    dtype_from_f32(DType::BF16, x, state_->src_bf16.data(), n);
    src = state_->src_bf16.data();
  }
  const size_t src_row_bytes = in_ * dtype_size(compute_);
  dnnl::stream stream(cpu_engine());
  for (int64_t r0 = 0; r0 < rows; r0 += kOnednnRowTile) {
    const int64_t n = std::min(kOnednnRowTile, rows - r0);
    memory src_mem(memory::desc({n, in_}, to_dnnl(compute_), tag::ab), cpu_engine(),
                   const_cast<uint8_t*>(static_cast<const uint8_t*>(src) + r0 * src_row_bytes));
    memory dst_mem(memory::desc({n, out_}, dt::f32, tag::ab), cpu_engine(), y + r0 * out_);
    state_->primitive(n, in_, out_, compute_)
        .execute(stream, {{DNNL_ARG_SRC, src_mem}, {DNNL_ARG_WEIGHTS, state_->packed}, {DNNL_ARG_DST, dst_mem}});
  }
  stream.wait();
}

bool cpu_supports_bf16_gemm() {
  static const bool supported = [] {
    try {
      const memory::desc any({64, 64}, dt::bf16, tag::any);
      make_pd(16, 64, 64, DType::BF16, any);
      return true;
    } catch (const dnnl::error&) {
      return false;
    }
  }();
  return supported;
}

DType linear_compute_dtype(DType weight_dtype, DType requested) {
  const bool want_bf16 = requested == DType::BF16 || (requested != DType::F32 && weight_dtype == DType::BF16);
  return want_bf16 && cpu_supports_bf16_gemm() ? DType::BF16 : DType::F32;
}


}  // namespace llmbatch
