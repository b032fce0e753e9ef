// Errors a user can act on. Every error says what went wrong, where (file,
// key, tensor, byte offset) and, when we know it, what to do about it.
//
// Expected conditions (no free KV block, a malformed record) are values, not
// exceptions; these types are for what stops an operation.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace llmbatch {

// Where an error happened. Empty fields are left out of the message.
struct ErrorContext {
  std::string file;
  std::string key;     // a JSON/YAML key path, e.g. "rope_scaling.factor"
  std::string tensor;  // an HF tensor name
  std::optional<uint64_t> offset;  // byte offset in `file`
};

class Error : public std::runtime_error {
 public:
  Error(std::string_view kind, const std::string& what, ErrorContext context = {},
        const std::string& hint = {});

  const ErrorContext& context() const { return context_; }
  // The bare description, without kind, context or hint.
  const std::string& description() const { return description_; }

 private:
  ErrorContext context_;
  std::string description_;
};

// A job file, CLI flag or model config.json that is wrong.
class ConfigError : public Error {
 public:
  ConfigError(const std::string& what, ErrorContext context = {}, const std::string& hint = {})
      : Error("config error", what, std::move(context), hint) {}
};

// A feature the input asks for that llmbatch does not implement. Refusing is
// always better than a silently wrong answer.
class UnsupportedError : public Error {
 public:
  UnsupportedError(const std::string& what, ErrorContext context = {}, const std::string& hint = {})
      : Error("unsupported", what, std::move(context), hint) {}
};

// Weights or tokenizer files that do not match their format.
class ModelFormatError : public Error {
 public:
  ModelFormatError(const std::string& what, ErrorContext context = {}, const std::string& hint = {})
      : Error("model format error", what, std::move(context), hint) {}
};

// An input dataset that cannot be read as declared.
class InputError : public Error {
 public:
  InputError(const std::string& what, ErrorContext context = {}, const std::string& hint = {})
      : Error("input error", what, std::move(context), hint) {}
};

// The operating system refused: open, mmap, write, rename, fsync.
class IoError : public Error {
 public:
  IoError(const std::string& what, ErrorContext context = {}, const std::string& hint = {})
      : Error("I/O error", what, std::move(context), hint) {}
};

// MPI or NCCL failed.
class CommError : public Error {
 public:
  CommError(const std::string& what, ErrorContext context = {}, const std::string& hint = {})
      : Error("communication error", what, std::move(context), hint) {}
};

// A bug in llmbatch: an invariant that should have held did not.
class InternalError : public Error {
 public:
  InternalError(const std::string& what, ErrorContext context = {}, const std::string& hint = {})
      : Error("internal error", what, std::move(context), hint) {}
};

// The errno text of an OS call, e.g. "No such file or directory".
std::string errno_text(int err);

}  // namespace llmbatch

// Checks an invariant of llmbatch itself; failing means a bug, not bad input.
#define LLMBATCH_CHECK(cond, msg)                                                        \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      throw ::llmbatch::InternalError(std::string(msg) + " (check '" #cond "' failed at " \
                                      __FILE__ ":" + std::to_string(__LINE__) + ")");    \
    }                                                                                    \
  } while (0)
