#include "io/hdf5_column.h"

#include <algorithm>

#include "core/error.h"

namespace llmbatch {
namespace {

constexpr hsize_t kChunkBytes = 64 * 1024;
// Chunk cache of an open column: four chunks cover a range read and its
// successor; HDF5's default (1 MiB per dataset, 22 datasets per segment)
// made merge's few open segments cost ~20 MB each.
constexpr size_t kChunkCacheBytes = 4 * kChunkBytes;
constexpr const char* kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

H5Id open_dataset(hid_t parent, const std::string& name, const std::string& file) {
  if (!h5_exists(parent, name)) {
    throw IoError("dataset missing (not an llmbatch results file, or a corrupt one)",
                  {.file = file, .key = name});
  }
  const H5Id access(h5_check(H5Pcreate(H5P_DATASET_ACCESS), "create property list", file, name), H5Pclose);
  h5_check(H5Pset_chunk_cache(access.get(), H5D_CHUNK_CACHE_NSLOTS_DEFAULT, kChunkCacheBytes,
                              H5D_CHUNK_CACHE_W0_DEFAULT),
           "set chunk cache", file, name);
  return H5Id(h5_check(H5Dopen2(parent, name.c_str(), access.get()), "open dataset", file, name), H5Dclose);
}

hsize_t dataset_length(hid_t dataset, const std::string& name, const std::string& file) {
  const H5Id space(h5_check(H5Dget_space(dataset), "get dataspace", file, name), H5Sclose);
  if (H5Sget_simple_extent_ndims(space.get()) != 1) {
    throw IoError("dataset is not one-dimensional", {.file = file, .key = name});
  }
  hsize_t dims[1] = {0};
  h5_check(H5Sget_simple_extent_dims(space.get(), dims, nullptr), "get dataset size", file, name);
  return dims[0];
}

// Reads [begin, end) of a 1-D dataset into `out` as `mem_type`; returns the
// memory dataspace (needed to reclaim variable-length data).
H5Id read_raw(hid_t dataset, const std::string& name, int64_t begin, int64_t end, hid_t mem_type,
              void* out, const std::string& file) {
  const hsize_t length = dataset_length(dataset, name, file);
  if (begin < 0 || end < begin || static_cast<hsize_t>(end) > length) {
    throw IoError("dataset has " + std::to_string(length) + " elements, cannot read [" +
                      std::to_string(begin) + ", " + std::to_string(end) + ") (corrupt file?)",
                  {.file = file, .key = name});
  }
  const hsize_t count[1] = {static_cast<hsize_t>(end - begin)};
  H5Id mem_space(h5_check(H5Screate_simple(1, count, nullptr), "create dataspace", file, name), H5Sclose);
  if (count[0] == 0) return mem_space;
  const H5Id file_space(h5_check(H5Dget_space(dataset), "get dataspace", file, name), H5Sclose);
  const hsize_t start[1] = {static_cast<hsize_t>(begin)};
  h5_check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr),
           "select rows", file, name);
  h5_check(H5Dread(dataset, mem_type, mem_space.get(), file_space.get(), H5P_DEFAULT, out),
           "read dataset (wrong type or corrupt data)", file, name);
  return mem_space;
}

std::string without_nul(const std::string& s) {
  if (s.find('\0') == std::string::npos) return s;
  std::string out;
  for (const char c : s) {
    if (c == '\0') {
      out += kReplacementCharacter;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

H5Column::H5Column(hid_t parent, const std::string& name, hid_t type, const std::string& file)
    : name_(name), file_(file) {
  const hsize_t zero[1] = {0}, unlimited[1] = {H5S_UNLIMITED};
  const H5Id space(h5_check(H5Screate_simple(1, zero, unlimited), "create dataspace", file, name), H5Sclose);
  const H5Id props(h5_check(H5Pcreate(H5P_DATASET_CREATE), "create property list", file, name), H5Pclose);
  // Variable-length elements are stored as 16-byte heap references.
  const size_t element = H5Tis_variable_str(type) > 0 ? 16 : H5Tget_size(type);
  const hsize_t chunk[1] = {std::max<hsize_t>(1, kChunkBytes / std::max<size_t>(1, element))};
  h5_check(H5Pset_chunk(props.get(), 1, chunk), "set chunking", file, name);
  if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
    h5_check(H5Pset_shuffle(props.get()), "set shuffle filter", file, name);
    h5_check(H5Pset_deflate(props.get(), 1), "set deflate filter", file, name);
  }
  dataset_ = H5Id(h5_check(H5Dcreate2(parent, name.c_str(), type, space.get(), H5P_DEFAULT, props.get(),
                                      H5P_DEFAULT),
                           "create dataset", file, name),
                  H5Dclose);
}

H5Column H5Column::create_strings(hid_t parent, const std::string& name, const std::string& file) {
  const H5Id type = h5_utf8_string_type();
  return H5Column(parent, name, type.get(), file);
}

void H5Column::append_raw(hid_t mem_type, const void* data, size_t count) {
  if (count == 0) return;
  const hsize_t new_size[1] = {static_cast<hsize_t>(size_) + count};
  h5_check(H5Dset_extent(dataset_.get(), new_size), "extend dataset", file_, name_);
  const H5Id file_space(h5_check(H5Dget_space(dataset_.get()), "get dataspace", file_, name_), H5Sclose);
  const hsize_t start[1] = {static_cast<hsize_t>(size_)}, n[1] = {count};
  h5_check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, n, nullptr),
           "select rows", file_, name_);
  const H5Id mem_space(h5_check(H5Screate_simple(1, n, nullptr), "create dataspace", file_, name_), H5Sclose);
  h5_check(H5Dwrite(dataset_.get(), mem_type, mem_space.get(), file_space.get(), H5P_DEFAULT, data),
           "write dataset", file_, name_);
  size_ += static_cast<int64_t>(count);
}

void H5Column::append_strings(std::span<const std::string> values) {
  std::vector<std::string> cleaned;  // copies of the strings that held a NUL
  cleaned.reserve(values.size());    // no reallocation: c_str() pointers stay valid
  std::vector<const char*> pointers;
  pointers.reserve(values.size());
  for (const std::string& v : values) {
    if (v.find('\0') != std::string::npos) {
      pointers.push_back(cleaned.emplace_back(without_nul(v)).c_str());
    } else {
      pointers.push_back(v.c_str());
    }
  }
  const H5Id type = h5_utf8_string_type();
  append_raw(type.get(), pointers.data(), pointers.size());
}

H5ColumnReader::H5ColumnReader(hid_t parent, const std::string& name, const std::string& file)
    : dataset_(open_dataset(parent, name, file)), name_(name), file_(file) {
  size_ = static_cast<int64_t>(dataset_length(dataset_.get(), name, file));
}

template <typename T>
std::vector<T> H5ColumnReader::read(int64_t begin, int64_t end) const {
  const H5Id stored(h5_check(H5Dget_type(dataset_.get()), "get type", file_, name_), H5Tclose);
  if (H5Tget_class(stored.get()) == H5T_STRING) {
    throw IoError("dataset holds strings where numbers were expected", {.file = file_, .key = name_});
  }
  std::vector<T> out(static_cast<size_t>(std::max<int64_t>(0, end - begin)));
  read_raw(dataset_.get(), name_, begin, end, h5_native_type<T>(), out.data(), file_);
  return out;
}

template std::vector<int32_t> H5ColumnReader::read(int64_t, int64_t) const;
template std::vector<int64_t> H5ColumnReader::read(int64_t, int64_t) const;
template std::vector<uint8_t> H5ColumnReader::read(int64_t, int64_t) const;
template std::vector<float> H5ColumnReader::read(int64_t, int64_t) const;
template std::vector<double> H5ColumnReader::read(int64_t, int64_t) const;

std::vector<std::string> H5ColumnReader::read_strings(int64_t begin, int64_t end) const {
  const H5Id stored(h5_check(H5Dget_type(dataset_.get()), "get type", file_, name_), H5Tclose);
  if (H5Tget_class(stored.get()) != H5T_STRING || H5Tis_variable_str(stored.get()) <= 0) {
    throw IoError("dataset does not hold variable-length strings", {.file = file_, .key = name_});
  }
  const H5Id type = h5_utf8_string_type();
  std::vector<char*> raw(static_cast<size_t>(std::max<int64_t>(0, end - begin)), nullptr);
  const H5Id mem_space = read_raw(dataset_.get(), name_, begin, end, type.get(), raw.data(), file_);
  std::vector<std::string> out;
  out.reserve(raw.size());
  for (const char* s : raw) out.emplace_back(s != nullptr ? s : "");
  if (!raw.empty()) H5Dvlen_reclaim(type.get(), mem_space.get(), H5P_DEFAULT, raw.data());
  return out;
}

void h5_write_attribute(hid_t object, const std::string& name, const std::string& value,
                        const std::string& file) {
  const H5Id type = h5_utf8_string_type();
  const H5Id space(h5_check(H5Screate(H5S_SCALAR), "create dataspace", file, name), H5Sclose);
  const H5Id attr(h5_check(H5Acreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                           "create attribute", file, name),
                  H5Aclose);
  const std::string cleaned = without_nul(value);
  const char* pointer = cleaned.c_str();
  h5_check(H5Awrite(attr.get(), type.get(), &pointer), "write attribute", file, name);
}

void h5_write_attribute(hid_t object, const std::string& name, int64_t value, const std::string& file) {
  const H5Id space(h5_check(H5Screate(H5S_SCALAR), "create dataspace", file, name), H5Sclose);
  const H5Id attr(h5_check(H5Acreate2(object, name.c_str(), H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                           "create attribute", file, name),
                  H5Aclose);
  h5_check(H5Awrite(attr.get(), H5T_NATIVE_INT64, &value), "write attribute", file, name);
}

std::map<std::string, std::string> h5_read_string_attributes(hid_t object, const std::string& file) {
  H5O_info_t info;
  h5_check(H5Oget_info2(object, &info, H5O_INFO_NUM_ATTRS), "list attributes", file);
  std::map<std::string, std::string> out;
  for (hsize_t i = 0; i < info.num_attrs; ++i) {
    const H5Id attr(h5_check(H5Aopen_by_idx(object, ".", H5_INDEX_NAME, H5_ITER_INC, i, H5P_DEFAULT, H5P_DEFAULT),
                             "open attribute", file),
                    H5Aclose);
    const ssize_t name_size = H5Aget_name(attr.get(), 0, nullptr);
    std::string name(static_cast<size_t>(h5_check(name_size, "get attribute name", file)), '\0');
    H5Aget_name(attr.get(), name.size() + 1, name.data());
    const H5Id stored(h5_check(H5Aget_type(attr.get()), "get attribute type", file, name), H5Tclose);
    if (H5Tget_class(stored.get()) != H5T_STRING || H5Tis_variable_str(stored.get()) <= 0) continue;
    const H5Id type = h5_utf8_string_type();
    char* value = nullptr;
    h5_check(H5Aread(attr.get(), type.get(), &value), "read attribute", file, name);
    out[name] = value != nullptr ? value : "";
    H5free_memory(value);
  }
  return out;
}

std::optional<int64_t> h5_read_int_attribute(hid_t object, const std::string& name, const std::string& file) {
  if (H5Aexists(object, name.c_str()) <= 0) return std::nullopt;
  const H5Id attr(h5_check(H5Aopen(object, name.c_str(), H5P_DEFAULT), "open attribute", file, name), H5Aclose);
  int64_t value = 0;
  h5_check(H5Aread(attr.get(), H5T_NATIVE_INT64, &value), "read attribute (not an integer?)", file, name);
  return value;
}

}  // namespace llmbatch
