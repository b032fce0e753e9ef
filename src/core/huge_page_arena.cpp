#include "core/huge_page_arena.h"

#include <algorithm>
#include <utility>

#include "core/error.h"

namespace llmbatch {

namespace {

constexpr size_t kAlignment = 64;

}  // namespace

HugePageArena::HugePageArena(std::string what, std::string hint, size_t chunk_bytes)
    : what_(std::move(what)), hint_(std::move(hint)), chunk_bytes_(chunk_bytes) {
  LLMBATCH_CHECK(chunk_bytes_ > 0, "an arena needs a chunk size");
}

std::span<uint8_t> HugePageArena::allocate(size_t bytes) {
  const size_t start = (used_ + kAlignment - 1) / kAlignment * kAlignment;
  if (chunks_.empty() || start > chunks_.back().size() || bytes > chunks_.back().size() - start) {
    chunks_.emplace_back(std::max(bytes, chunk_bytes_), what_, ErrorContext{}, hint_);
    used_ = 0;
    return allocate(bytes);
  }
  used_ = start + bytes;
  allocated_ += bytes;
  return {chunks_.back().data() + start, bytes};
}

}  // namespace llmbatch
