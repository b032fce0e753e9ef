#include "io/hdf5_handle.h"

#include <filesystem>
#include <mutex>

#include "core/error.h"

namespace llmbatch {
namespace {

// HDF5 prints its error stack to stderr on every failed call, including the
// H5Lexists probes that fail by design; our IoError says what matters.
void silence_hdf5_error_printing() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

}  // namespace

H5Id& H5Id::operator=(H5Id&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.id_;
    closer_ = other.closer_;
    other.id_ = H5I_INVALID_HID;
  }
  return *this;
}

void H5Id::reset() {
  if (id_ >= 0 && closer_ != nullptr) closer_(id_);
  id_ = H5I_INVALID_HID;
}

void H5Id::close(const std::string& file) {
  const hid_t id = id_;
  id_ = H5I_INVALID_HID;
  if (id >= 0 && closer_ != nullptr) h5_check(closer_(id), "close", file);
}

hid_t h5_check(hid_t status, const std::string& what, const std::string& file,
               const std::string& object) {
  if (status < 0) throw IoError("HDF5 could not " + what, {.file = file, .key = object});
  return status;
}

H5Id h5_file_create(const std::string& path) {
  silence_hdf5_error_printing();
  const hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (id < 0) {
    throw IoError("cannot create HDF5 file", {.file = path},
                  "check that the directory exists and is writable");
  }
  return H5Id(id, H5Fclose);
}

H5Id h5_file_open_read(const std::string& path) {
  silence_hdf5_error_printing();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw IoError("no such file", {.file = path});
  }
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    throw IoError("not an HDF5 file", {.file = path},
                  "give a results.h5 written by `llmbatch merge` or a segment file");
  }
  const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) throw IoError("cannot open HDF5 file (truncated or corrupt?)", {.file = path});
  return H5Id(id, H5Fclose);
}

H5Id h5_group_create(hid_t parent, const std::string& name, const std::string& file) {
  const hid_t id = H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  return H5Id(h5_check(id, "create group", file, name), H5Gclose);
}

bool h5_exists(hid_t parent, const std::string& path) {
  // H5Lexists fails (rather than returning 0) when an intermediate group is
  // missing, so walk the path one link at a time.
  size_t end = 0;
  while (end != std::string::npos) {
    end = path.find('/', end + 1);
    const std::string prefix = path.substr(0, end);
    if (H5Lexists(parent, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
  }
  return true;
}

H5Id h5_utf8_string_type() {
  H5Id type(h5_check(H5Tcopy(H5T_C_S1), "copy string type", ""), H5Tclose);
  h5_check(H5Tset_size(type.get(), H5T_VARIABLE), "make string type variable-length", "");
  h5_check(H5Tset_cset(type.get(), H5T_CSET_UTF8), "set UTF-8 string type", "");
  return type;
}

}  // namespace llmbatch
