#include "io/input_hdf5.h"

#include <hdf5.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <type_traits>

#include "core/error.h"

namespace llmbatch {
namespace {

static_assert(std::is_same_v<hid_t, int64_t>, "HDF5 1.10+ (hid_t is int64_t)");

// Offsets are checked this many at a time: 8 MiB whatever the file.
constexpr int64_t kOffsetChunk = 1 << 20;

// HDF5 prints its error stack to stderr by default; we report our own.
class QuietHdf5 {
 public:
  QuietHdf5() {
    H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietHdf5() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

// A dataspace, datatype or property id closed on scope exit.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

InputError dataset_error(const std::string& path, const std::string& dataset, const std::string& what) {
  return InputError(dataset + ": " + what, {.file = path},
                    "hdf5-tokens needs /prompt_offsets [N+1] and /prompt_ids (integers), optional /ids "
                    "(strings); see docs/inputs.md");
}

// Opens a 1-D dataset of the given type class and returns its length.
hid_t open_dataset(hid_t file, const std::string& path, const char* name, H5T_class_t type_class,
                   bool required, int64_t& length) {
  if (H5Lexists(file, name, H5P_DEFAULT) <= 0) {
    if (required) throw dataset_error(path, name, "missing");
    return -1;
  }
  const hid_t dataset = H5Dopen2(file, name, H5P_DEFAULT);
  if (dataset < 0) throw dataset_error(path, name, "cannot open it as a dataset");
  const Handle type(H5Dget_type(dataset), H5Tclose);
  const Handle space(H5Dget_space(dataset), H5Sclose);
  hsize_t dims[1] = {0};
  const bool right_type = type.get() >= 0 && H5Tget_class(type.get()) == type_class;
  const bool one_d = space.get() >= 0 && H5Sget_simple_extent_ndims(space.get()) == 1 &&
                     H5Sget_simple_extent_dims(space.get(), dims, nullptr) == 1;
  if (!right_type || !one_d) {
    H5Dclose(dataset);
    throw dataset_error(path, name,
                        std::string("must be a 1-D dataset of ") +
                            (type_class == H5T_INTEGER ? "integers" : "strings"));
  }
  length = static_cast<int64_t>(dims[0]);
  return dataset;
}

// Reads elements [first, first + count) of a 1-D dataset as `mem_type`.
void read_range(hid_t dataset, hid_t mem_type, int64_t first, int64_t count, void* dst,
                const std::string& path, const char* name) {
  if (count == 0) return;
  const Handle file_space(H5Dget_space(dataset), H5Sclose);
  const hsize_t start[1] = {static_cast<hsize_t>(first)};
  const hsize_t size[1] = {static_cast<hsize_t>(count)};
  const Handle mem_space(H5Screate_simple(1, size, nullptr), H5Sclose);
  if (file_space.get() < 0 || mem_space.get() < 0 ||
      H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, size, nullptr) < 0 ||
      H5Dread(dataset, mem_type, mem_space.get(), file_space.get(), H5P_DEFAULT, dst) < 0) {
    throw InputError(std::string("cannot read ") + name + " [" + std::to_string(first) + ", " +
                         std::to_string(first + count) + ")",
                     {.file = path}, "the file may be truncated or corrupt; check it with h5dump");
  }
}

std::vector<std::string> read_strings(hid_t dataset, int64_t first, int64_t count, const std::string& path) {
  const Handle file_type(H5Dget_type(dataset), H5Tclose);
  const Handle mem_type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_cset(mem_type.get(), H5Tget_cset(file_type.get()));
  std::vector<std::string> ids(static_cast<size_t>(count));
  if (H5Tis_variable_str(file_type.get()) > 0) {
    H5Tset_size(mem_type.get(), H5T_VARIABLE);
    std::vector<char*> raw(ids.size(), nullptr);
    read_range(dataset, mem_type.get(), first, count, raw.data(), path, "/ids");
    for (size_t i = 0; i < raw.size(); ++i) ids[i] = raw[i] != nullptr ? raw[i] : "";
    const hsize_t size[1] = {static_cast<hsize_t>(count)};
    const Handle space(H5Screate_simple(1, size, nullptr), H5Sclose);
    H5Dvlen_reclaim(mem_type.get(), space.get(), H5P_DEFAULT, raw.data());
  } else {
    const size_t width = H5Tget_size(file_type.get());
    H5Tset_size(mem_type.get(), width);
    std::vector<char> raw(width * ids.size());
    read_range(dataset, mem_type.get(), first, count, raw.data(), path, "/ids");
    for (size_t i = 0; i < ids.size(); ++i) {
      const char* s = raw.data() + i * width;
      ids[i].assign(s, strnlen(s, width));
    }
  }
  return ids;
}

}  // namespace

Hdf5TokenFile::Hdf5TokenFile(const std::string& path) : path_(path) {
  if (::access(path.c_str(), R_OK) != 0) {
    throw IoError("cannot open input: " + errno_text(errno), {.file = path});
  }
  const QuietHdf5 quiet;
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    throw InputError("not an HDF5 file (input.format is hdf5-tokens)", {.file = path});
  }
  file_ = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file_ < 0) throw InputError("cannot open the HDF5 file", {.file = path});
  try {
    int64_t num_offsets = 0;
    int64_t num_ids = 0;
    offsets_ = open_dataset(file_, path, "/prompt_offsets", H5T_INTEGER, true, num_offsets);
    token_ids_ = open_dataset(file_, path, "/prompt_ids", H5T_INTEGER, true, num_tokens_);
    ids_ = open_dataset(file_, path, "/ids", H5T_STRING, false, num_ids);
    if (num_offsets == 0) throw dataset_error(path, "/prompt_offsets", "is empty (N records need N+1 offsets)");
    num_records_ = num_offsets - 1;
    if (ids_ >= 0 && num_ids != num_records_) {
      throw dataset_error(path, "/ids", "has " + std::to_string(num_ids) + " entries for " +
                                             std::to_string(num_records_) + " records");
    }
  } catch (...) {
    close();  // the destructor does not run for a constructor that throws
    throw;
  }
}

Hdf5TokenFile::~Hdf5TokenFile() { close(); }

void Hdf5TokenFile::close() {
  for (hid_t dataset : {offsets_, token_ids_, ids_}) {
    if (dataset >= 0) H5Dclose(dataset);
  }
  offsets_ = token_ids_ = ids_ = -1;
  if (file_ >= 0) H5Fclose(file_);
  file_ = -1;
}

std::vector<int64_t> Hdf5TokenFile::read_offsets(int64_t first, int64_t count) const {
  std::vector<int64_t> offsets(static_cast<size_t>(count));
  read_range(offsets_, H5T_NATIVE_INT64, first, count, offsets.data(), path_, "/prompt_offsets");
  return offsets;
}

void Hdf5TokenFile::check_offsets() const {
  const QuietHdf5 quiet;
  int64_t previous = 0;
  for (int64_t first = 0; first <= num_records_; first += kOffsetChunk) {
    const auto chunk = read_offsets(first, std::min(kOffsetChunk, num_records_ + 1 - first));
    for (size_t i = 0; i < chunk.size(); ++i) {
      const int64_t at = first + static_cast<int64_t>(i);
      if ((at == 0 && chunk[i] != 0) || chunk[i] < previous) {
        throw dataset_error(path_, "/prompt_offsets",
                            "offset " + std::to_string(at) + " is " + std::to_string(chunk[i]) +
                                (at == 0 ? " (must be 0)" : ", below the one before (" + std::to_string(previous) + ")"));
      }
      previous = chunk[i];
    }
  }
  if (previous != num_tokens_) {
    throw dataset_error(path_, "/prompt_offsets",
                        "last offset is " + std::to_string(previous) + " but /prompt_ids has " +
                            std::to_string(num_tokens_) + " tokens");
  }
}

Hdf5TokenFile::Slice Hdf5TokenFile::read(int64_t first, int64_t count) const {
  if (first < 0 || count < 0 || first + count > num_records_) {
    throw InternalError("Hdf5TokenFile::read(" + std::to_string(first) + ", " + std::to_string(count) +
                        ") outside " + std::to_string(num_records_) + " records of " + path_);
  }
  const QuietHdf5 quiet;
  Slice slice;
  slice.offsets = read_offsets(first, count + 1);
  const int64_t base = slice.offsets.front();
  for (size_t i = 0; i < slice.offsets.size(); ++i) {
    if (slice.offsets[i] < base || (i > 0 && slice.offsets[i] < slice.offsets[i - 1]) ||
        slice.offsets[i] > num_tokens_) {
      throw dataset_error(path_, "/prompt_offsets",
                          "offsets of records " + std::to_string(first) + ".." + std::to_string(first + count) +
                              " are not non-decreasing within [0, " + std::to_string(num_tokens_) + "]");
    }
    slice.offsets[i] -= base;
  }
  slice.token_ids.resize(static_cast<size_t>(slice.offsets.back()));
  read_range(token_ids_, H5T_NATIVE_INT64, base, slice.offsets.back(), slice.token_ids.data(), path_,
             "/prompt_ids");
  if (ids_ >= 0 && count > 0) slice.ids = read_strings(ids_, first, count, path_);
  return slice;
}

}  // namespace llmbatch
