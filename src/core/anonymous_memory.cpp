#include "core/anonymous_memory.h"

#include <sys/mman.h>

#include <cerrno>
#include <utility>

#include "core/units.h"

// glibc before 2.35 lacks the name; kernels before 5.14 answer EINVAL.
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

namespace llmbatch {

AnonymousMemory::AnonymousMemory(size_t bytes, const std::string& what, ErrorContext context,
                                 const std::string& hint) {
  if (bytes == 0) return;
  // Map a huge page more than asked and trim both ends to the 2 MiB grid:
  // mmap alone only promises 4 KiB alignment.
  const size_t padded = bytes + kHugePageBytes;
  void* p = padded < bytes ? MAP_FAILED
                           : mmap(nullptr, padded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    const int err = padded < bytes ? ENOMEM : errno;
    throw IoError("cannot reserve " + format_bytes(bytes) + " for " + what + ": " + errno_text(err), context, hint);
  }
  constexpr uintptr_t kPage = 4096;  // munmap works on whole pages
  auto round_up = [](uintptr_t x, uintptr_t to) { return (x + to - 1) / to * to; };
  const auto start = reinterpret_cast<uintptr_t>(p);
  const uintptr_t aligned = round_up(start, kHugePageBytes);
  const uintptr_t keep_end = round_up(aligned + bytes, kPage), map_end = round_up(start + padded, kPage);
  if (aligned > start) munmap(p, aligned - start);
  if (map_end > keep_end) munmap(reinterpret_cast<void*>(keep_end), map_end - keep_end);
  data_ = reinterpret_cast<uint8_t*>(aligned);
  size_ = bytes;
  madvise(data_, size_, MADV_HUGEPAGE);  // a hint: EINVAL where THP is compiled out changes nothing
}

void AnonymousMemory::populate(const std::string& what, ErrorContext context, const std::string& hint) {
  if (data_ == nullptr) return;
  if (madvise(data_, size_, MADV_POPULATE_WRITE) == 0) return;
  const int err = errno;
  if (err != EINVAL) {  // EINVAL: a kernel before 5.14
    throw IoError("cannot commit " + format_bytes(size_) + " for " + what + ": " + errno_text(err), context, hint);
  }
  constexpr size_t kPage = 4096;
  for (size_t i = 0; i < size_; i += kPage) data_[i] = 0;
}

AnonymousMemory::~AnonymousMemory() { release(); }

AnonymousMemory::AnonymousMemory(AnonymousMemory&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

AnonymousMemory& AnonymousMemory::operator=(AnonymousMemory&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void AnonymousMemory::release() {
  if (data_ != nullptr) munmap(data_, size_);
  data_ = nullptr;
  size_ = 0;
}

}  // namespace llmbatch
