// The MLP's gated activation on the CPU: SwiGLU's silu(gate) · up.
#pragma once

#include <cstdint>

namespace llmbatch {

// out[t][i] = gate[t][i] / (1 + e^-gate[t][i]) · up[t][i], where row t of
// gate_up ([tokens, 2 * ffn]) holds gate then up; out: [tokens, ffn].
// Rows run in parallel. Elementwise, so a value's bits depend on that
// element alone; AVX2 machines use a polynomial exp (simd_exp.h), others
// std::exp.
void silu_mul_rows(const float* gate_up, int64_t tokens, int64_t ffn, float* out);

}  // namespace llmbatch
