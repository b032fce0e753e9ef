// An hdf5-tokens input: pre-tokenized prompts as CSR datasets,
//   /prompt_offsets  integer [N+1]  offsets[0] == 0, non-decreasing, offsets[N] == M
//   /prompt_ids      integer [M]    (int32 or int64; read as int64, range-checked per record)
//   /ids             string  [N]    optional record ids (variable or fixed length)
// opened serially with default property lists (one rank reads its own units).
//
//   class Hdf5TokenFile { num_records(), check_offsets(), read(first, count) };
//
// A file without these datasets, of the wrong rank or type, or with bad
// offsets is an InputError naming the file and dataset; a record whose ids
// do not fit a TokenId is the reader's business (an error row).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace llmbatch {

class Hdf5TokenFile {
 public:
  explicit Hdf5TokenFile(const std::string& path);
  ~Hdf5TokenFile();
  Hdf5TokenFile(const Hdf5TokenFile&) = delete;
  Hdf5TokenFile& operator=(const Hdf5TokenFile&) = delete;

  int64_t num_records() const { return num_records_; }
  bool has_ids() const { return ids_ >= 0; }

  // Reads all offsets in chunks (bounded memory) and checks the CSR rules.
  void check_offsets() const;

  struct Slice {
    std::vector<int64_t> offsets;    // [count + 1], rebased so offsets[0] == 0
    std::vector<int64_t> token_ids;  // [offsets[count]]
    std::vector<std::string> ids;    // [count], or empty without /ids
  };
  // Records [first, first + count); checks that their offsets are sane.
  Slice read(int64_t first, int64_t count) const;

 private:
  void close();
  std::vector<int64_t> read_offsets(int64_t first, int64_t count) const;

  std::string path_;
  int64_t file_ = -1;  // hid_t values (int64_t in HDF5 1.10+), -1 when absent
  int64_t offsets_ = -1;
  int64_t token_ids_ = -1;
  int64_t ids_ = -1;
  int64_t num_records_ = 0;
  int64_t num_tokens_ = 0;
};

}  // namespace llmbatch
