#include "core/error.h"

#include <cerrno>

#include <gtest/gtest.h>

namespace llmbatch {
namespace {

TEST(ErrorTest, MessageNamesKindPlaceAndHint) {
  const ModelFormatError e("tensor data runs past the end of the file",
                           {.file = "m.safetensors", .tensor = "lm_head.weight", .offset = 4096},
                           "the file may be truncated; download it again");
  EXPECT_STREQ(e.what(),
               "model format error: tensor data runs past the end of the file "
               "[file 'm.safetensors', tensor 'lm_head.weight', byte offset 4096]. "
               "the file may be truncated; download it again");
  EXPECT_EQ(e.description(), "tensor data runs past the end of the file");
  EXPECT_EQ(e.context().tensor, "lm_head.weight");
}

TEST(ErrorTest, EmptyContextIsLeftOut) {
  EXPECT_STREQ(ConfigError("bad").what(), "config error: bad");
  EXPECT_STREQ(UnsupportedError("rope_scaling type 'yarn'", {.key = "rope_scaling.type"}).what(),
               "unsupported: rope_scaling type 'yarn' [key 'rope_scaling.type']");
}

TEST(ErrorTest, KindsAreCatchableAsError) {
  EXPECT_THROW(throw IoError("x"), Error);
  EXPECT_THROW(throw InputError("x"), Error);
  EXPECT_THROW(throw CommError("x"), Error);
  EXPECT_THROW(throw InternalError("x"), Error);
}

TEST(ErrorTest, CheckMacroThrowsInternalError) {
  EXPECT_NO_THROW(LLMBATCH_CHECK(1 + 1 == 2, "math"));
  try {
    LLMBATCH_CHECK(1 + 1 == 3, "math broke");
    FAIL();
  } catch (const InternalError& e) {
    EXPECT_NE(std::string(e.what()).find("math broke"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("1 + 1 == 3"), std::string::npos);
  }
}

TEST(ErrorTest, ErrnoText) { EXPECT_EQ(errno_text(ENOENT), "No such file or directory"); }

}  // namespace
}  // namespace llmbatch
