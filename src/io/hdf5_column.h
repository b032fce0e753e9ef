// One-dimensional HDF5 datasets ("columns") of numbers or UTF-8 strings, and
// scalar attributes. A column is created empty with unlimited size, chunked
// and compressed (shuffle + deflate level 1: integer offsets and ids shrink
// several-fold for little CPU), and grows by append(); readers take any range.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "io/hdf5_handle.h"

namespace llmbatch {

// Native HDF5 memory type of the element types llmbatch stores.
template <typename T>
hid_t h5_native_type();
template <> inline hid_t h5_native_type<int32_t>() { return H5T_NATIVE_INT32; }
template <> inline hid_t h5_native_type<int64_t>() { return H5T_NATIVE_INT64; }
template <> inline hid_t h5_native_type<uint8_t>() { return H5T_NATIVE_UINT8; }
template <> inline hid_t h5_native_type<float>() { return H5T_NATIVE_FLOAT; }
template <> inline hid_t h5_native_type<double>() { return H5T_NATIVE_DOUBLE; }

class H5Column {
 public:
  // A numeric column of T's native type, or (create_strings) variable-length
  // UTF-8 strings. `file` only names the file in errors.
  template <typename T>
  static H5Column create(hid_t parent, const std::string& name, const std::string& file) {
    return H5Column(parent, name, h5_native_type<T>(), file);
  }
  static H5Column create_strings(hid_t parent, const std::string& name, const std::string& file);

  template <typename T>
  void append(std::span<const T> values) {
    append_raw(h5_native_type<T>(), values.data(), values.size());
  }
  // A NUL character cannot live inside an HDF5 variable-length string (it
  // ends it); it is stored as U+FFFD instead of silently cutting the text.
  void append_strings(std::span<const std::string> values);
  int64_t size() const { return size_; }

 private:
  H5Column(hid_t parent, const std::string& name, hid_t type, const std::string& file);
  void append_raw(hid_t mem_type, const void* data, size_t count);

  H5Id dataset_;
  std::string name_, file_;
  int64_t size_ = 0;
};

// An open column for reading ranges. HDF5 keeps a dataset's chunk cache
// only while the dataset is open, so a reader of many small ranges (merge)
// keeps its columns open: reopening per range decompressed each chunk again
// and made merge 3x slower.
class H5ColumnReader {
 public:
  // Opens the 1-D dataset `name` below `parent`. Throws IoError when it is
  // missing or not one-dimensional.
  H5ColumnReader(hid_t parent, const std::string& name, const std::string& file);

  int64_t size() const { return size_; }
  // Elements [begin, end), converted by HDF5 to T (an integer column read as
  // a wider integer type is fine; a string column is an IoError).
  template <typename T>
  std::vector<T> read(int64_t begin, int64_t end) const;
  std::vector<std::string> read_strings(int64_t begin, int64_t end) const;

 private:
  H5Id dataset_;
  std::string name_, file_;
  int64_t size_ = 0;
};

// Scalar attributes: strings as variable-length UTF-8, integers as int64.
void h5_write_attribute(hid_t object, const std::string& name, const std::string& value,
                        const std::string& file);
void h5_write_attribute(hid_t object, const std::string& name, int64_t value,
                        const std::string& file);
// Every variable-length string attribute of `object` (others are skipped).
std::map<std::string, std::string> h5_read_string_attributes(hid_t object, const std::string& file);
// An integer attribute, or nullopt when `object` has none named `name`.
std::optional<int64_t> h5_read_int_attribute(hid_t object, const std::string& name,
                                             const std::string& file);

}  // namespace llmbatch
