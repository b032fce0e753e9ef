// The x86 intrinsics, for the CPU kernels. GCC 12's AVX-512 headers (PR
// 105593, fixed in GCC 13) fill unused lanes from a self-initialised
// variable and warn "used uninitialized" wherever a plain intrinsic is
// inlined; the warning is located in the header, so it is silenced here
// only. Kernels and their tests include this instead of <immintrin.h>.
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
