#include "core/json_error.h"

#include <gtest/gtest.h>

namespace llmbatch {
namespace {

template <typename F>
std::optional<uint64_t> byte_of(F parse) {
  try {
    parse();
  } catch (const nlohmann::json::exception& e) {
    return json_error_byte(e);
  }
  ADD_FAILURE() << "parse did not throw";
  return std::nullopt;
}

TEST(JsonErrorTest, ByteOfASyntaxErrorNoneForANumberOverflow) {
  // nlohmann counts bytes from 1: the '}' where a value should be is byte 7,
  // the end of the input after "[1, 2" byte 6.
  EXPECT_EQ(byte_of([] { return nlohmann::json::parse(R"({"a": })"); }), std::optional<uint64_t>(7));
  EXPECT_EQ(byte_of([] { return nlohmann::json::parse(R"({"a": 1e999})"); }), std::nullopt);
  EXPECT_EQ(byte_of([] { return nlohmann::ordered_json::parse("[1, 2"); }), std::optional<uint64_t>(6));
}

}  // namespace
}  // namespace llmbatch
