// Zero-filled anonymous memory for the large arrays a step streams: packed
// weights and the KV cache. The mapping starts on a 2 MiB boundary and is
// advised for transparent huge pages (MADV_HUGEPAGE), which Debian's default
// `madvise` mode grants only on request. With 4 KiB pages the hardware
// prefetcher stops at every page boundary and every page costs a TLB walk:
// here paged-attention reads ran 25-40% slower (bench_kv_read) and a
// batch-1 decode step ~10% slower (docs/PERFORMANCE.md). Pages are
// committed as they are first written, 2 MiB at a time where the kernel
// grants huge pages; where THP is off the advice is ignored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"

namespace llmbatch {

constexpr size_t kHugePageBytes = size_t{2} << 20;

class AnonymousMemory {
 public:
  AnonymousMemory() = default;
  // Throws IoError ("cannot reserve <size> for <what>: <errno>") with the
  // given context and hint when the memory cannot be mapped.
  AnonymousMemory(size_t bytes, const std::string& what, ErrorContext context = {}, const std::string& hint = {});
  ~AnonymousMemory();
  AnonymousMemory(AnonymousMemory&& other) noexcept;
  AnonymousMemory& operator=(AnonymousMemory&& other) noexcept;
  AnonymousMemory(const AnonymousMemory&) = delete;
  AnonymousMemory& operator=(const AnonymousMemory&) = delete;

  uint8_t* data() const { return data_; }  // 2 MiB-aligned; nullptr when empty
  size_t size() const { return size_; }

  // Commits every page now (MADV_POPULATE_WRITE; on kernels before 5.14,
  // by writing a zero to each page): the time steps would otherwise spend
  // in first-touch faults — clearing a fresh 2 MiB page each — is paid once
  // here, and a machine short of memory fails here, before any work. Throws
  // IoError (with `what`, context and hint as above) when the kernel refuses
  // to commit the pages; the fallback's writes can only be OOM-killed.
  void populate(const std::string& what, ErrorContext context = {}, const std::string& hint = {});

 private:
  void release();

  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace llmbatch
