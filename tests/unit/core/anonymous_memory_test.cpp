#include "core/anonymous_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace llmbatch {
namespace {

bool page_is_mapped(uintptr_t address) {
  return msync(reinterpret_cast<void*>(address / 4096 * 4096), 4096, MS_ASYNC) == 0;
}

// [start, end) of the /proc/self/maps entry that holds `address`; {0, 0} if none.
std::pair<uintptr_t, uintptr_t> mapping_holding(uintptr_t address) {
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    const size_t dash = line.find('-');
    const uintptr_t start = std::stoull(line.substr(0, dash), nullptr, 16);
    const uintptr_t end = std::stoull(line.substr(dash + 1), nullptr, 16);
    if (start <= address && address < end) return {start, end};
  }
  return {0, 0};
}

// The VmFlags line of the /proc/self/smaps entry that starts at `start`.
std::string vm_flags_of_mapping_at(const void* start) {
  std::ifstream smaps("/proc/self/smaps");
  std::ostringstream prefix;
  prefix << std::hex << reinterpret_cast<uintptr_t>(start) << "-";
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    if (line.find('-') != std::string::npos && line.find(' ') > line.find('-') && std::isxdigit(line[0])) {
      inside = line.rfind(prefix.str(), 0) == 0;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return {};
}

TEST(AnonymousMemoryTest, ZeroFilledWritableAndOnTheHugePageGrid) {
  for (const size_t bytes : {size_t{1}, size_t{4095}, size_t{4096}, (size_t{3} << 20) + 5}) {
    AnonymousMemory m(bytes, "a test array");
    ASSERT_NE(m.data(), nullptr);
    EXPECT_EQ(m.size(), bytes);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(m.data()) % kHugePageBytes, 0u);
    EXPECT_TRUE(std::all_of(m.data(), m.data() + bytes, [](uint8_t b) { return b == 0; }));
    std::fill_n(m.data(), bytes, uint8_t{0xA5});
    EXPECT_EQ(m.data()[bytes - 1], 0xA5);
  }
}

// Resident pages of [data, data + bytes), by mincore.
size_t resident_pages(const uint8_t* data, size_t bytes) {
  const size_t pages = (bytes + 4095) / 4096;
  std::vector<unsigned char> in_core(pages);
  if (mincore(const_cast<uint8_t*>(data), bytes, in_core.data()) != 0) return 0;
  return static_cast<size_t>(std::count_if(in_core.begin(), in_core.end(), [](unsigned char c) { return c & 1; }));
}

TEST(AnonymousMemoryTest, PopulateCommitsEveryPageAndKeepsZeros) {
  const size_t bytes = (size_t{5} << 20) + 12345;
  AnonymousMemory m(bytes, "a test array");
  EXPECT_EQ(resident_pages(m.data(), bytes), 0u) << "a fresh mapping has no pages yet";
  m.populate("a test array");
  EXPECT_EQ(resident_pages(m.data(), bytes), (bytes + 4095) / 4096);
  EXPECT_TRUE(std::all_of(m.data(), m.data() + bytes, [](uint8_t b) { return b == 0; }));
  AnonymousMemory empty;
  empty.populate("nothing");  // no mapping: nothing to do
  EXPECT_EQ(empty.data(), nullptr);
}

TEST(AnonymousMemoryTest, KeepsNoneOfTheAlignmentPadding) {
  const size_t bytes = (size_t{1} << 20) + 100;
  AnonymousMemory m(bytes, "a test array");
  m.data()[0] = 1;
  const auto begin = reinterpret_cast<uintptr_t>(m.data());
  // Its own mapping (the huge-page advice keeps it from merging with a
  // neighbour), from data() to the end of the page holding the last byte.
  EXPECT_EQ(mapping_holding(begin), std::make_pair(begin, (begin + bytes + 4095) / 4096 * 4096));
}

TEST(AnonymousMemoryTest, AdvisedForTransparentHugePages) {
  if (!std::filesystem::exists("/sys/kernel/mm/transparent_hugepage")) GTEST_SKIP() << "kernel without THP";
  AnonymousMemory m(size_t{4} << 20, "a test array");
  m.data()[0] = 1;
  const std::string flags = vm_flags_of_mapping_at(m.data());
  ASSERT_FALSE(flags.empty()) << "no smaps entry starts at the mapping";
  EXPECT_NE((flags + " ").find(" hg "), std::string::npos) << flags;  // hg: MADV_HUGEPAGE
}

TEST(AnonymousMemoryTest, EmptyHasNoData) {
  const AnonymousMemory none;
  EXPECT_EQ(none.data(), nullptr);
  EXPECT_EQ(none.size(), 0u);
  const AnonymousMemory zero(0, "nothing");
  EXPECT_EQ(zero.data(), nullptr);
}

TEST(AnonymousMemoryTest, MovesOwnershipAndUnmapsOnce) {
  AnonymousMemory a(8192, "a test array");
  uint8_t* const data = a.data();
  AnonymousMemory b(std::move(a));
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(b.data(), data);
  AnonymousMemory c;
  c = std::move(b);
  EXPECT_EQ(b.data(), nullptr);
  EXPECT_EQ(c.data(), data);
  EXPECT_EQ(c.size(), 8192u);
  c = AnonymousMemory();
  EXPECT_FALSE(page_is_mapped(reinterpret_cast<uintptr_t>(data)));
}

TEST(AnonymousMemoryTest, ImpossibleSizeIsAnIoErrorWithContext) {
  for (const size_t bytes : {size_t{1} << 60, SIZE_MAX - 1}) {
    try {
      AnonymousMemory m(bytes, "the test cache", {.key = "engine.test_memory"}, "ask for less");
      FAIL() << "no error for " << bytes << " bytes";
    } catch (const IoError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("cannot reserve"), std::string::npos) << what;
      EXPECT_NE(what.find("the test cache"), std::string::npos) << what;
      EXPECT_NE(what.find("engine.test_memory"), std::string::npos) << what;
      EXPECT_NE(what.find("ask for less"), std::string::npos) << what;
    }
  }
}

}  // namespace
}  // namespace llmbatch
