#include "io/input_hdf5.h"

#include <hdf5.h>

#include <fstream>

#include <gtest/gtest.h>

#include "core/error.h"
#include "input_test_files.h"

namespace llmbatch {
namespace {

using testing::Hdf5Tokens;
using testing::ScratchDir;
using testing::write_hdf5_tokens;

// Three prompts: [5 6 7], [], [8 9].
Hdf5Tokens three_records() {
  return Hdf5Tokens{.offsets = {0, 3, 3, 5}, .ids = {5, 6, 7, 8, 9}};
}

// An InputError naming the file whose message mentions `what`.
template <typename F>
void expect_input_error(F f, const std::string& path, const std::string& what) {
  try {
    f();
    FAIL() << "no error for " << what;
  } catch (const InputError& e) {
    EXPECT_EQ(e.context().file, path);
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

TEST(Hdf5TokenFile, ReadsSlicesRebased) {
  ScratchDir dir("hdf5_slices");
  for (bool int32_ids : {false, true}) {
    Hdf5Tokens t = three_records();
    t.int32_ids = int32_ids;
    const std::string path = dir.path("t.h5");
    write_hdf5_tokens(path, t);
    const Hdf5TokenFile file(path);
    EXPECT_EQ(file.num_records(), 3);
    EXPECT_FALSE(file.has_ids());
    file.check_offsets();
    const auto all = file.read(0, 3);
    EXPECT_EQ(all.offsets, (std::vector<int64_t>{0, 3, 3, 5}));
    EXPECT_EQ(all.token_ids, (std::vector<int64_t>{5, 6, 7, 8, 9}));
    EXPECT_TRUE(all.ids.empty());
    const auto tail = file.read(1, 2);
    EXPECT_EQ(tail.offsets, (std::vector<int64_t>{0, 0, 2}));
    EXPECT_EQ(tail.token_ids, (std::vector<int64_t>{8, 9}));
    EXPECT_EQ(file.read(2, 0).offsets, (std::vector<int64_t>{0}));
    EXPECT_THROW(file.read(2, 2), InternalError);
  }
}

TEST(Hdf5TokenFile, ReadsVariableAndFixedLengthIds) {
  ScratchDir dir("hdf5_ids");
  for (bool fixed : {false, true}) {
    Hdf5Tokens t = three_records();
    t.record_ids = std::vector<std::string>{"alpha", "b", "ünï"};
    t.fixed_length_ids = fixed;
    const std::string path = dir.path("t.h5");
    write_hdf5_tokens(path, t);
    const Hdf5TokenFile file(path);
    EXPECT_TRUE(file.has_ids());
    EXPECT_EQ(file.read(0, 3).ids, (std::vector<std::string>{"alpha", "b", "ünï"}));
    EXPECT_EQ(file.read(2, 1).ids, (std::vector<std::string>{"ünï"}));
  }
}

TEST(Hdf5TokenFile, BadOffsetsAreInputErrors) {
  ScratchDir dir("hdf5_offsets");
  const std::string path = dir.path("t.h5");
  const std::vector<std::pair<Hdf5Tokens, std::string>> cases = {
      {{.offsets = {0, 3, 2, 5}, .ids = {1, 2, 3, 4, 5}}, "below the one before"},
      {{.offsets = {1, 3, 5}, .ids = {1, 2, 3, 4, 5}}, "must be 0"},
      {{.offsets = {0, 3, 4}, .ids = {1, 2, 3, 4, 5}}, "last offset is 4"},
  };
  for (const auto& [tokens, what] : cases) {
    write_hdf5_tokens(path, tokens);
    const Hdf5TokenFile file(path);
    expect_input_error([&] { file.check_offsets(); }, path, what);
  }
  // read() checks the offsets of its own range (a file indexed before it changed).
  write_hdf5_tokens(path, {.offsets = {0, 3, 9, 5}, .ids = {1, 2, 3, 4, 5}});
  const Hdf5TokenFile file(path);
  expect_input_error([&] { file.read(0, 3); }, path, "non-decreasing");
}

TEST(Hdf5TokenFile, MissingOrMistypedDatasetsAreInputErrors) {
  ScratchDir dir("hdf5_datasets");
  const std::string path = dir.path("t.h5");
  const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  const hsize_t dims[1] = {2};
  const hid_t space = H5Screate_simple(1, dims, nullptr);
  const hid_t d = H5Dcreate2(f, "/prompt_offsets", H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dclose(d);
  H5Sclose(space);
  H5Fclose(f);
  expect_input_error([&] { Hdf5TokenFile file(path); }, path, "/prompt_offsets: must be a 1-D dataset of integers");

  Hdf5Tokens t = three_records();
  write_hdf5_tokens(path, t);
  const hid_t g = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  H5Ldelete(g, "/prompt_ids", H5P_DEFAULT);
  H5Fclose(g);
  expect_input_error([&] { Hdf5TokenFile file(path); }, path, "/prompt_ids: missing");

  t.record_ids = std::vector<std::string>{"a", "b"};
  write_hdf5_tokens(path, t);
  expect_input_error([&] { Hdf5TokenFile file(path); }, path, "/ids: has 2 entries for 3 records");

  write_hdf5_tokens(path, {.offsets = {}, .ids = {}});
  expect_input_error([&] { Hdf5TokenFile file(path); }, path, "is empty");
}

TEST(Hdf5TokenFile, NotHdf5IsInputErrorAndMissingIsIoError) {
  ScratchDir dir("hdf5_not");
  const std::string path = dir.path("t.h5");
  std::ofstream(path) << "{\"prompt\": \"hi\"}\n";
  expect_input_error([&] { Hdf5TokenFile file(path); }, path, "not an HDF5 file");
  EXPECT_THROW(Hdf5TokenFile(dir.path("missing.h5")), IoError);
}

}  // namespace
}  // namespace llmbatch
