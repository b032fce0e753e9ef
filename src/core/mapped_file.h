// A read-only memory map of a whole file. Pages are read only when touched,
// so a rank that reads 1/G of a tensor faults in only that part.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace llmbatch {

class MappedFile {
 public:
  // Throws IoError naming the path when the file cannot be opened or mapped.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }  // nullptr for an empty file
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace llmbatch
