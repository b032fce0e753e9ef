#include "kv/kv_storage.h"

#include <cstring>
#include <string>

#include "core/error.h"

namespace llmbatch {

namespace {

constexpr size_t kAlignment = 64;

}  // namespace

KvStorage::KvStorage(const KvLayout& layout, int64_t num_blocks, int64_t block_size)
    : layout_(layout), num_blocks_(num_blocks), block_size_(block_size) {
  kv_check_layout(layout);
  kv_check_block_size(block_size);
  LLMBATCH_CHECK(num_blocks >= 1, "KV storage needs at least one block");
  block_bytes_ = static_cast<size_t>(block_size) * static_cast<size_t>(layout.num_kv_heads) *
                 static_cast<size_t>(layout.head_dim) * dtype_size(layout.dtype);
  const size_t array_bytes = 2 * block_bytes_ * static_cast<size_t>(num_blocks);
  LLMBATCH_CHECK(array_bytes / static_cast<size_t>(num_blocks) == 2 * block_bytes_, "KV storage size overflows");
  array_stride_ = (array_bytes + kAlignment - 1) / kAlignment * kAlignment;
  const auto num_arrays = static_cast<size_t>(layout.num_layers);
  total_bytes_ = array_stride_ * num_arrays + kKvReadableTail;
  LLMBATCH_CHECK((total_bytes_ - kKvReadableTail) / num_arrays == array_stride_, "KV storage size overflows");
  memory_ = AnonymousMemory(total_bytes_, "the KV cache", {.key = "engine.kv_cache_memory"},
                            "lower engine.kv_cache_memory");
  // Committed up front: first-touch faults (a 2 MiB page cleared per fresh
  // huge page) fell into decode steps, 3% of a 64-sequence bench run.
  memory_.populate("the KV cache", {.key = "engine.kv_cache_memory"}, "lower engine.kv_cache_memory");
}

void KvStorage::copy_block(BlockId src, BlockId dst) {
  LLMBATCH_CHECK(src != dst, "copying a KV block onto itself");
  for (int64_t l = 0; l < layout_.num_layers; ++l) std::memcpy(block_in(l, dst), block_in(l, src), 2 * block_bytes_);
}

uint8_t* KvStorage::array(int64_t layer) const {
  LLMBATCH_CHECK(layer >= 0 && layer < layout_.num_layers, "KV layer out of range");
  return memory_.data() + static_cast<size_t>(layer) * array_stride_;
}

uint8_t* KvStorage::block_in(int64_t layer, BlockId block) const {
  LLMBATCH_CHECK(block >= 0 && block < num_blocks_,
                 "KV block " + std::to_string(block) + " out of range");
  return array(layer) + static_cast<size_t>(block) * 2 * block_bytes_;
}

}  // namespace llmbatch
