// Shared by every kernel: the host/device qualifier that lets the math of a
// kernel compile with g++ too, so it is tested on machines without a GPU.
#pragma once

#if defined(__CUDACC__)
#define LLMBATCH_HD __host__ __device__
#else
#define LLMBATCH_HD
#endif
