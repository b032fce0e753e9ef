// Which instruction sets the CPU kernels may use on this machine. A machine
// always takes the same path, so its results are reproducible run to run.
#pragma once

namespace llmbatch {

// AVX2 and FMA: the vector kernels (GEMM, attention, activations).
bool cpu_supports_avx2_fma();

}  // namespace llmbatch
