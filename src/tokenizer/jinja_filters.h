// Jinja's built-in filters and tests, as transformers' environment has them
// (its `tojson` replaces Jinja's: no HTML escaping, ensure_ascii=False,
// indent/separators/sort_keys passed to json.dumps).
//
// Filters that take a sequence and return a generator in Jinja (select,
// map, reject...) return lists here; only printing one directly would differ
// ("<generator object ...>"), which no chat template does.
#pragma once

#include <string_view>

#include "tokenizer/jinja_value.h"

namespace llmbatch::jinja {

enum class Support {
  kImplemented,
  kUnsupported,  // a Jinja built-in this interpreter does not implement
  kUnknown,      // Jinja has no such filter/test either
};

Support filter_support(std::string_view name);
Support test_support(std::string_view name);

// `input | name(args)`. Throws TemplateRuntimeError for bad arguments.
Value apply_filter(std::string_view name, const Value& input, const CallArgs& args);
// `input is name(args)`.
bool apply_test(std::string_view name, const Value& input, const CallArgs& args);

}  // namespace llmbatch::jinja
