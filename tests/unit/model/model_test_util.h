// Helpers shared by the model tests: scratch directories, whole-file I/O,
// weight files of given shapes, and catching an error to look inside it.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "model/safetensors_writer.h"

// The text of an error (or any string) contains `part`.
#define EXPECT_CONTAINS(text, part)                                            \
  EXPECT_NE(std::string(text).find(part), std::string::npos)                   \
      << "'" << std::string(text) << "' does not contain '" << (part) << "'"

namespace llmbatch::test {

// A fresh directory under the system temp dir, removed with its contents.
// The pid keeps parallel ctest processes apart; the counter, tests in one.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("llmbatch_model_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string str() const { return path_.string(); }
  // A path inside the directory.
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// A safetensors file holding `tensors`, all bytes zero (for layout checks,
// where only names and shapes matter).
inline void write_zero_safetensors(const std::string& path, const std::vector<TensorDecl>& tensors) {
  SafetensorsWriter writer(path, tensors);
  for (const auto& t : tensors) {
    const std::vector<uint8_t> zeros(t.nbytes());
    writer.write(zeros);
  }
  writer.finish();
}

// Runs `f` and returns the E it throws; a test failure when it throws
// nothing (any other exception propagates and fails the test).
template <typename E, typename F>
std::optional<E> thrown(F&& f) {
  try {
    std::forward<F>(f)();
  } catch (const E& e) {
    return e;
  }
  ADD_FAILURE() << "expected an exception, none was thrown";
  return std::nullopt;
}

// The what() of the E that `f` throws; "" (and a test failure) without one.
template <typename E, typename F>
std::string message_of(F&& f) {
  const auto e = thrown<E>(std::forward<F>(f));
  return e ? e->what() : "";
}

}  // namespace llmbatch::test
