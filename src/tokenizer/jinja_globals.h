// The functions every chat template can call: Jinja's range, dict and
// namespace, and the three transformers adds (raise_exception, strftime_now,
// and its own dict/namespace with the same behaviour).
#pragma once

#include <ctime>
#include <optional>
#include <string>

#include "tokenizer/jinja_interpreter.h"

namespace llmbatch::jinja {

struct BuiltinOptions {
  // What strftime_now() formats; absent means the current local time.
  // Tests and reproducible jobs pin it.
  std::optional<std::tm> now;
  // Names the template in raise_exception's InputError.
  std::string origin;
};

// Adds range, dict, namespace, raise_exception and strftime_now to `globals`
// (and refusing stand-ins for Jinja's lipsum, cycler and joiner).
void add_builtin_globals(Globals& globals, const BuiltinOptions& options);

}  // namespace llmbatch::jinja
