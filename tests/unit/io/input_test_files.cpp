#include "input_test_files.h"

#include <hdf5.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <fstream>
#include <stdexcept>

namespace llmbatch::testing {
namespace {

void check(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error("test fixture: " + what);
}

void write_dataset(hid_t file, const char* name, hid_t file_type, hid_t mem_type, size_t count, const void* data) {
  const hsize_t dims[1] = {count};
  const hid_t space = H5Screate_simple(1, dims, nullptr);
  const hid_t dataset = H5Dcreate2(file, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  check(dataset >= 0, std::string("create ") + name);
  check(count == 0 || H5Dwrite(dataset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0,
        std::string("write ") + name);
  H5Dclose(dataset);
  H5Sclose(space);
}

}  // namespace

ScratchDir::ScratchDir(const std::string& name)
    : dir_(std::filesystem::temp_directory_path() /
           ("llmbatch_" + name + "_" + std::to_string(::getpid()))) {
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
}

ScratchDir::~ScratchDir() { std::filesystem::remove_all(dir_); }

void write_input_file(const std::string& path, const std::string& data) {
  if (path.ends_with(".gz")) {
    gzFile f = gzopen(path.c_str(), "wb");
    check(f != nullptr, "gzopen " + path);
    check(data.empty() || gzwrite(f, data.data(), static_cast<unsigned>(data.size())) > 0, "gzwrite");
    check(gzclose(f) == Z_OK, "gzclose");
    return;
  }
  std::string bytes = data;
  if (path.ends_with(".zst")) {
    bytes.resize(ZSTD_compressBound(data.size()));
    const size_t n = ZSTD_compress(bytes.data(), bytes.size(), data.data(), data.size(), 3);
    check(!ZSTD_isError(n), "ZSTD_compress");
    bytes.resize(n);
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  check(static_cast<bool>(out.flush()), "write " + path);
}

void write_hdf5_tokens(const std::string& path, const Hdf5Tokens& t) {
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  check(file >= 0, "H5Fcreate " + path);
  write_dataset(file, "/prompt_offsets", H5T_STD_I64LE, H5T_NATIVE_INT64, t.offsets.size(), t.offsets.data());
  if (t.int32_ids) {
    const std::vector<int32_t> narrow(t.ids.begin(), t.ids.end());
    write_dataset(file, "/prompt_ids", H5T_STD_I32LE, H5T_NATIVE_INT32, narrow.size(), narrow.data());
  } else {
    write_dataset(file, "/prompt_ids", H5T_STD_I64LE, H5T_NATIVE_INT64, t.ids.size(), t.ids.data());
  }
  if (t.record_ids) {
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_cset(type, H5T_CSET_UTF8);
    if (t.fixed_length_ids) {
      size_t width = 1;
      for (const auto& s : *t.record_ids) width = std::max(width, s.size());
      H5Tset_size(type, width);
      std::vector<char> raw(width * t.record_ids->size(), '\0');
      for (size_t i = 0; i < t.record_ids->size(); ++i) (*t.record_ids)[i].copy(raw.data() + i * width, width);
      write_dataset(file, "/ids", type, type, t.record_ids->size(), raw.data());
    } else {
      H5Tset_size(type, H5T_VARIABLE);
      std::vector<const char*> raw;
      for (const auto& s : *t.record_ids) raw.push_back(s.c_str());
      write_dataset(file, "/ids", type, type, raw.size(), raw.data());
    }
    H5Tclose(type);
  }
  check(H5Fclose(file) >= 0, "H5Fclose " + path);
}

}  // namespace llmbatch::testing
