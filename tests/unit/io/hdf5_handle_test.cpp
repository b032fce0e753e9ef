#include "io/hdf5_handle.h"

#include <fstream>

#include <gtest/gtest.h>

#include "core/error.h"
#include "segment_test_rows.h"

namespace llmbatch {
namespace {

using testing::TempDir;

TEST(H5Id, ClosesOnDestructionAndMove) {
  hid_t raw;
  {
    H5Id space(H5Screate(H5S_SCALAR), H5Sclose);
    raw = space.get();
    EXPECT_GT(H5Iis_valid(raw), 0);
    H5Id moved = std::move(space);
    EXPECT_EQ(space.get(), H5I_INVALID_HID);
    EXPECT_EQ(moved.get(), raw);
  }
  EXPECT_LE(H5Iis_valid(raw), 0);
}

TEST(H5Id, ExplicitCloseReleasesOnce) {
  H5Id space(H5Screate(H5S_SCALAR), H5Sclose);
  const hid_t raw = space.get();
  space.close("f");
  EXPECT_LE(H5Iis_valid(raw), 0);
  EXPECT_EQ(space.get(), H5I_INVALID_HID);
  space.close("f");  // nothing left to close
}

TEST(H5Check, NegativeStatusIsIoErrorNamingFileAndObject) {
  EXPECT_EQ(h5_check(7, "x", "f"), 7);
  try {
    h5_check(-1, "read dataset", "a.h5", "records/index");
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("HDF5 could not read dataset"), std::string::npos);
    EXPECT_EQ(e.context().file, "a.h5");
    EXPECT_EQ(e.context().key, "records/index");
  }
}

TEST(H5File, CreateOpenAndGroups) {
  TempDir dir("h5handle");
  const std::string path = dir.file("a.h5");
  {
    H5Id file = h5_file_create(path);
    h5_group_create(file.get(), "outer", path);
    h5_group_create(file.get(), "outer/inner", path);
    EXPECT_THROW(h5_group_create(file.get(), "outer", path), IoError);  // exists
    file.close(path);
  }
  const H5Id file = h5_file_open_read(path);
  EXPECT_TRUE(h5_exists(file.get(), "outer"));
  EXPECT_TRUE(h5_exists(file.get(), "outer/inner"));
  EXPECT_FALSE(h5_exists(file.get(), "outer/none"));
  EXPECT_FALSE(h5_exists(file.get(), "none/inner"));  // missing intermediate group: false, not an error
}

TEST(H5File, MissingAndNonHdf5FilesAreClearIoErrors) {
  TempDir dir("h5handle");
  try {
    h5_file_open_read(dir.file("missing.h5"));
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("no such file"), std::string::npos);
  }
  std::ofstream(dir.file("text.h5")) << "not hdf5";
  try {
    h5_file_open_read(dir.file("text.h5"));
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("not an HDF5 file"), std::string::npos);
  }
  EXPECT_THROW(h5_file_create(dir.file("no/such/dir/a.h5")), IoError);
}

TEST(H5Types, Utf8StringTypeIsVariableLengthUtf8) {
  const H5Id type = h5_utf8_string_type();
  EXPECT_EQ(H5Tget_class(type.get()), H5T_STRING);
  EXPECT_GT(H5Tis_variable_str(type.get()), 0);
  EXPECT_EQ(H5Tget_cset(type.get()), H5T_CSET_UTF8);
}

}  // namespace
}  // namespace llmbatch
