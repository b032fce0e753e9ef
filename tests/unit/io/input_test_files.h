// Test helpers for the input readers: a scratch directory per test and
// writers for plain, gzip, zstd and hdf5-tokens files, built with the zlib,
// zstd and HDF5 C APIs directly (independent of the code under test).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace llmbatch::testing {

// A fresh directory under the temp dir, removed on destruction.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string str() const { return dir_.string(); }

 private:
  std::filesystem::path dir_;
};

// Writes `data` to `path`, compressed by the extension (.gz, .zst).
void write_input_file(const std::string& path, const std::string& data);

struct Hdf5Tokens {
  std::vector<int64_t> offsets;  // [N+1]
  std::vector<int64_t> ids;      // written as int32 when `int32_ids`
  std::optional<std::vector<std::string>> record_ids;
  bool int32_ids = false;
  bool fixed_length_ids = false;  // /ids as fixed-length strings instead of variable-length
};
void write_hdf5_tokens(const std::string& path, const Hdf5Tokens& tokens);

}  // namespace llmbatch::testing
