#include "io/input_options.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "input_test_files.h"

namespace llmbatch {
namespace {

using testing::ScratchDir;
using testing::write_input_file;

TEST(InputFormat, ParsesEveryNameAndNamesItBack) {
  EXPECT_EQ(parse_input_format("jsonl"), InputFormat::kJsonl);
  EXPECT_EQ(parse_input_format("openai-batch"), InputFormat::kOpenAiBatch);
  EXPECT_EQ(parse_input_format("text"), InputFormat::kText);
  EXPECT_EQ(parse_input_format("hdf5-tokens"), InputFormat::kHdf5Tokens);
  for (const char* name : {"jsonl", "openai-batch", "text", "hdf5-tokens"}) {
    EXPECT_EQ(input_format_name(parse_input_format(name)), name);
  }
}

TEST(InputFormat, UnknownNameIsConfigErrorOnInputFormat) {
  for (const char* name : {"json", "JSONL", "", "hdf5"}) {
    try {
      parse_input_format(name);
      FAIL() << name;
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.context().key, "input.format");
      EXPECT_NE(std::string(e.what()).find("openai-batch"), std::string::npos) << "lists the valid names";
    }
  }
}

TEST(ExpandInputPaths, SortsEachPatternKeepsPatternOrderAndDropsDuplicates) {
  ScratchDir dir("expand_paths");
  for (const char* name : {"b.jsonl", "a.jsonl", "c.txt", "a10.jsonl", "a2.jsonl"}) {
    write_input_file(dir.path(name), "{}\n");
  }
  const std::vector<std::string> patterns = {dir.path("c.txt"), dir.path("*.jsonl"), dir.path("a.jsonl"),
                                             dir.str() + "/./b.jsonl"};
  const std::vector<std::string> expected = {dir.path("c.txt"), dir.path("a.jsonl"), dir.path("a10.jsonl"),
                                             dir.path("a2.jsonl"), dir.path("b.jsonl")};
  EXPECT_EQ(expand_input_paths(patterns), expected);
  const std::vector<std::string> question = {dir.path("a?.jsonl")};
  EXPECT_EQ(expand_input_paths(question), (std::vector<std::string>{dir.path("a2.jsonl")}));
}

TEST(ExpandInputPaths, NoMatchNamesThePattern) {
  ScratchDir dir("expand_nomatch");
  write_input_file(dir.path("a.jsonl"), "{}\n");
  const std::vector<std::string> patterns = {dir.path("a.jsonl"), dir.path("*.parquet")};
  try {
    expand_input_paths(patterns);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.context().key, "input.paths");
    EXPECT_NE(std::string(e.what()).find(dir.path("*.parquet")), std::string::npos);
  }
  const std::vector<std::string> missing = {dir.path("missing.jsonl")};
  EXPECT_THROW(expand_input_paths(missing), ConfigError);
  EXPECT_THROW(expand_input_paths({}), ConfigError);
}

TEST(ExpandInputPaths, FileNameWithGlobCharactersNamesItself) {
  ScratchDir dir("expand_literal");
  write_input_file(dir.path("run[1].jsonl"), "{}\n");
  const std::vector<std::string> patterns = {dir.path("run[1].jsonl")};
  EXPECT_EQ(expand_input_paths(patterns), patterns);
}

TEST(ExpandInputPaths, DirectoryIsConfigError) {
  ScratchDir dir("expand_dir");
  std::filesystem::create_directories(dir.path("sub"));
  const std::vector<std::string> patterns = {dir.path("*")};
  try {
    expand_input_paths(patterns);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.context().key, "input.paths");
    EXPECT_NE(std::string(e.what()).find("directory"), std::string::npos);
  }
}

}  // namespace
}  // namespace llmbatch
