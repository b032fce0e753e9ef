#include "io/compressed_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <vector>

#include "core/error.h"

namespace llmbatch {
namespace {

constexpr size_t kSkipChunk = 1 << 16;

// An open file descriptor, closed on destruction.
class Fd {
 public:
  explicit Fd(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_ < 0) throw IoError("cannot open input: " + errno_text(errno), {.file = path});
    struct stat st {};
    if (fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd_);
      throw IoError("input is not a regular file", {.file = path});
    }
    size_ = static_cast<uint64_t>(st.st_size);
  }
  ~Fd() { ::close(fd_); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  uint64_t size() const { return size_; }

  size_t read(char* dst, size_t size, const std::string& path) const {
    for (;;) {
      const ssize_t n = ::read(fd_, dst, size);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) throw IoError("cannot read input: " + errno_text(errno), {.file = path});
    }
  }

 private:
  int fd_;
  uint64_t size_ = 0;
};

// Compressed streams cannot seek: skip by decompressing into scratch.
void skip_by_reading(ByteReader& reader, uint64_t count) {
  std::vector<char> scratch(kSkipChunk);
  while (count > 0) {
    const size_t n = reader.read(scratch.data(), std::min<uint64_t>(count, scratch.size()));
    if (n == 0) return;
    count -= n;
  }
}

class PlainReader final : public ByteReader {
 public:
  explicit PlainReader(const std::string& path) : ByteReader(path), fd_(path) {}

  size_t read(char* dst, size_t size) override {
    const size_t n = fd_.read(dst, size, path_);
    position_ += n;
    return n;
  }

  void skip(uint64_t count) override {
    const uint64_t target = std::min(position_ + count, fd_.size());
    if (lseek(fd_.get(), static_cast<off_t>(target), SEEK_SET) < 0) {
      throw IoError("cannot seek in input: " + errno_text(errno), {.file = path_, .offset = target});
    }
    position_ = target;
  }

 private:
  Fd fd_;
};

class GzipReader final : public ByteReader {
 public:
  explicit GzipReader(const std::string& path) : ByteReader(path) {
    const Fd probe(path);  // the same open errors as a plain file
    file_ = gzopen(path.c_str(), "rb");
    if (file_ == nullptr) throw IoError("cannot open gzip input: " + errno_text(errno), {.file = path});
    gzbuffer(file_, 1 << 17);
  }
  ~GzipReader() override { gzclose(file_); }

  size_t read(char* dst, size_t size) override {
    const unsigned ask = static_cast<unsigned>(std::min<size_t>(size, 1u << 30));
    const int n = gzread(file_, dst, ask);
    if (n < 0) {
      int code = 0;
      const char* what = gzerror(file_, &code);
      if (code == Z_ERRNO) throw IoError("cannot read gzip input: " + errno_text(errno), {.file = path_});
      throw InputError("corrupt gzip stream: " + std::string(what), {.file = path_, .offset = position_},
                       "check the file with `gzip -t`");
    }
    if (n == 0) {
      // zlib reports a stream cut short as a quiet end of data.
      int code = 0;
      const char* what = gzerror(file_, &code);
      if (code == Z_BUF_ERROR) {
        throw InputError("truncated gzip stream: " + std::string(what), {.file = path_, .offset = position_},
                         "check the file with `gzip -t`");
      }
    }
    // zlib passes data without a gzip header through unchanged; a .gz file
    // that is not gzip is a mistake worth reporting.
    if (n > 0 && gzdirect(file_)) {
      throw InputError("not a gzip stream (the file name ends in .gz)", {.file = path_},
                       "compress it with gzip or rename it");
    }
    position_ += static_cast<uint64_t>(n);
    return static_cast<size_t>(n);
  }

  void skip(uint64_t count) override { skip_by_reading(*this, count); }

 private:
  gzFile file_ = nullptr;
};

class ZstdReader final : public ByteReader {
 public:
  explicit ZstdReader(const std::string& path)
      : ByteReader(path), fd_(path), in_(ZSTD_DStreamInSize()), ctx_(ZSTD_createDCtx()) {
    if (ctx_ == nullptr) throw IoError("cannot allocate a zstd decoder", {.file = path});
  }
  ~ZstdReader() override { ZSTD_freeDCtx(ctx_); }

  size_t read(char* dst, size_t size) override {
    ZSTD_outBuffer out{dst, size, 0};
    while (out.pos == 0 && size > 0) {
      if (input_.pos == input_.size && !eof_) {
        const size_t n = fd_.read(in_.data(), in_.size(), path_);
        eof_ = n == 0;
        compressed_read_ += n;
        input_ = {in_.data(), n, 0};
      }
      const size_t in_before = input_.pos;
      const size_t ret = ZSTD_decompressStream(ctx_, &out, &input_);
      if (ZSTD_isError(ret)) {
        throw InputError("corrupt zstd stream: " + std::string(ZSTD_getErrorName(ret)),
                         {.file = path_, .offset = position_}, "check the file with `zstd -t`");
      }
      // Without progress, `ret` is only a hint for the next frame's header.
      if (input_.pos != in_before || out.pos != 0) {
        frame_open_ = ret != 0;
      } else if (eof_) {
        break;  // drained
      }
    }
    if (out.pos == 0 && size > 0 && frame_open_ && compressed_read_ > 0) {
      throw InputError("truncated zstd stream (the last frame is incomplete)",
                       {.file = path_, .offset = position_}, "check the file with `zstd -t`");
    }
    position_ += out.pos;
    return out.pos;
  }

  void skip(uint64_t count) override { skip_by_reading(*this, count); }

 private:
  Fd fd_;
  std::vector<char> in_;
  ZSTD_DCtx* ctx_;
  ZSTD_inBuffer input_{nullptr, 0, 0};
  bool eof_ = false;
  bool frame_open_ = false;
  uint64_t compressed_read_ = 0;
};

}  // namespace

Compression compression_of(std::string_view path) {
  if (path.ends_with(".gz")) return Compression::kGzip;
  if (path.ends_with(".zst")) return Compression::kZstd;
  return Compression::kNone;
}

std::unique_ptr<ByteReader> open_byte_reader(const std::string& path) {
  switch (compression_of(path)) {
    case Compression::kNone: return std::make_unique<PlainReader>(path);
    case Compression::kGzip: return std::make_unique<GzipReader>(path);
    case Compression::kZstd: return std::make_unique<ZstdReader>(path);
  }
  throw InternalError("Compression out of range");
}

}  // namespace llmbatch
