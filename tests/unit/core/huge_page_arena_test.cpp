#include "core/huge_page_arena.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace llmbatch {
namespace {

TEST(HugePageArenaTest, PiecesAreAlignedZeroFilledAndDisjoint) {
  HugePageArena arena("test weights", "", size_t{4} << 20);
  const std::vector<size_t> sizes = {1, 100, 4096, 63, 3'000'000, 7};
  std::vector<std::span<uint8_t>> pieces;
  size_t total = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    pieces.push_back(arena.allocate(sizes[i]));
    ASSERT_EQ(pieces.back().size(), sizes[i]);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(pieces.back().data()) % 64, 0u);
    EXPECT_TRUE(std::all_of(pieces.back().begin(), pieces.back().end(), [](uint8_t b) { return b == 0; }));
    std::fill(pieces.back().begin(), pieces.back().end(), static_cast<uint8_t>(i + 1));
    total += sizes[i];
  }
  for (size_t i = 0; i < pieces.size(); ++i) {
    EXPECT_TRUE(std::all_of(pieces[i].begin(), pieces[i].end(), [&](uint8_t b) { return b == i + 1; }))
        << "piece " << i << " was overwritten by another";
  }
  EXPECT_EQ(arena.bytes_allocated(), total);
}

TEST(HugePageArenaTest, SmallPiecesShareOneHugePageAlignedChunk) {
  HugePageArena arena("test weights", "", size_t{4} << 20);
  const auto a = arena.allocate(1000), b = arena.allocate(1000);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data()) % kHugePageBytes, 0u);
  EXPECT_EQ(b.data(), a.data() + 1024);  // the next 64-byte boundary in the same chunk
}

TEST(HugePageArenaTest, RequestLargerThanAChunkGetsItsOwn) {
  HugePageArena arena("test weights", "", size_t{1} << 20);
  const auto small = arena.allocate(10);
  const auto large = arena.allocate(size_t{3} << 20);
  ASSERT_EQ(large.size(), size_t{3} << 20);
  std::fill(large.begin(), large.end(), uint8_t{7});
  EXPECT_EQ(small[0], 0);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(large.data()) % kHugePageBytes, 0u);
  EXPECT_EQ(arena.allocate(10).size(), 10u);
}

TEST(HugePageArenaTest, ExhaustionIsAnIoErrorNamingTheContentsAndTheRemedy) {
  HugePageArena arena("the packed weights", "free some memory");
  try {
    arena.allocate(size_t{1} << 60);
    FAIL() << "no error";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("the packed weights"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("free some memory"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace llmbatch
