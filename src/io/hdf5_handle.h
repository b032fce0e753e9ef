// RAII ownership of HDF5 identifiers, and checked calls. HDF5 reports errors
// as negative return values and, by default, prints its whole error stack to
// stderr; llmbatch turns that printing off and throws an IoError that names
// the file and the object instead. Serial use only (default property lists).
#pragma once

#include <hdf5.h>

#include <string>

namespace llmbatch {

// Owns one hid_t and closes it with the matching H5*close function.
class H5Id {
 public:
  using Closer = herr_t (*)(hid_t);

  H5Id() = default;
  H5Id(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  ~H5Id() { reset(); }
  H5Id(H5Id&& other) noexcept : id_(other.id_), closer_(other.closer_) { other.id_ = H5I_INVALID_HID; }
  H5Id& operator=(H5Id&& other) noexcept;
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;

  hid_t get() const { return id_; }
  // Closes now and reports failure: closing a file is when HDF5 writes its
  // metadata, so a writer must see that error rather than lose it in ~H5Id.
  void close(const std::string& file);

 private:
  void reset();

  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

// Throws IoError("HDF5 could not <what>", {.file, .key = object}) when
// `status` is negative; returns it otherwise (ids pass through).
hid_t h5_check(hid_t status, const std::string& what, const std::string& file,
               const std::string& object = {});

// Creates (truncating) an HDF5 file for writing. Throws IoError.
H5Id h5_file_create(const std::string& path);
// Opens an existing file read-only. A missing file or one that is not HDF5
// is an IoError that says which.
H5Id h5_file_open_read(const std::string& path);

H5Id h5_group_create(hid_t parent, const std::string& name, const std::string& file);
// Whether `path` (e.g. "text/output") names an object below `parent`; false
// also when an intermediate group is missing.
bool h5_exists(hid_t parent, const std::string& path);

// Variable-length UTF-8 string type (H5T_CSET_UTF8), as h5py writes `str`.
H5Id h5_utf8_string_type();

}  // namespace llmbatch
