#include "io/segment_fs.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "core/error.h"

namespace llmbatch {
namespace {

// Closes a file descriptor when it goes out of scope.
class Fd {
 public:
  Fd(const std::string& path, int flags, mode_t mode = 0644) : fd_(::open(path.c_str(), flags | O_CLOEXEC, mode)) {
    if (fd_ < 0) throw IoError("cannot open: " + errno_text(errno), {.file = path});
  }
  ~Fd() { ::close(fd_); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

void fsync_fd(const Fd& fd, const std::string& path) {
  if (::fsync(fd.get()) != 0) throw IoError("fsync failed: " + errno_text(errno), {.file = path});
}

void write_all(const Fd& fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd.get(), data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw IoError("write failed: " + errno_text(errno), {.file = path}, "is the disk full?");
    data.remove_prefix(static_cast<size_t>(n));
  }
}

std::string parent_dir(const std::string& path) {
  const std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

}  // namespace

void fsync_file(const std::string& path) {
  const Fd fd(path, O_RDONLY);
  fsync_fd(fd, path);
}

void fsync_directory(const std::string& dir) {
  const Fd fd(dir, O_RDONLY | O_DIRECTORY);
  fsync_fd(fd, dir);
}

void rename_durably(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    throw IoError("cannot rename to '" + to + "': " + errno_text(errno), {.file = from});
  }
  fsync_directory(parent_dir(to));
}

void write_file_atomically(const std::string& path, std::string_view content) {
  const std::string tmp = path + ".tmp";
  {
    const Fd fd(tmp, O_WRONLY | O_CREAT | O_TRUNC);
    write_all(fd, content, tmp);
    fsync_fd(fd, tmp);
  }
  rename_durably(tmp, path);
}

void append_line_durably(const std::string& path, std::string_view line) {
  LLMBATCH_CHECK(!line.empty() && line.back() == '\n', "a journal line ends in a newline");
  const bool created = !std::filesystem::exists(path);
  {
    const Fd fd(path, O_WRONLY | O_CREAT | O_APPEND);
    write_all(fd, line, path);
    fsync_fd(fd, path);
  }
  if (created) fsync_directory(parent_dir(path));
}

uint32_t crc32_update(std::span<const uint8_t> bytes, uint32_t crc) {
  static const std::array<uint32_t, 256> table = make_crc_table();
  crc = ~crc;
  for (const uint8_t b : bytes) crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

uint32_t file_crc32(const std::string& path) {
  const Fd fd(path, O_RDONLY);
  std::vector<uint8_t> buffer(1 << 20);
  uint32_t crc = 0;
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw IoError("read failed: " + errno_text(errno), {.file = path});
    if (n == 0) return crc;
    crc = crc32_update({buffer.data(), static_cast<size_t>(n)}, crc);
  }
}

}  // namespace llmbatch
