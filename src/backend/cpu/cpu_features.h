// Which instruction sets the CPU kernels may use on this machine. A machine
// always takes the same path, so its results are reproducible run to run.
#pragma once

namespace llmbatch {

// AVX2 and FMA: the vector kernels (GEMM, attention, activations).
bool cpu_supports_avx2_fma();
// AVX-512 Foundation: the wide attention blocks.
bool cpu_supports_avx512f();
// AVX-512 with BF16 dot products (VDPBF16PS): the bf16 GEMM kernel.
bool cpu_supports_avx512_bf16();

}  // namespace llmbatch
