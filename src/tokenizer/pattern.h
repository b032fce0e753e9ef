// The `pattern` field shared by the Replace normalizer, the Split
// pre-tokenizer and the Replace decoder: {"String": s} (a literal) or
// {"Regex": r}.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "tokenizer/json_fields.h"
#include "tokenizer/regex.h"

namespace llmbatch::tokenizer {

std::unique_ptr<Regex> pattern_from_json(const Json& spec, const JsonPath& at);

// `text` with every match of `pattern` replaced by `content`.
std::string pattern_replace_all(const Regex& pattern, std::string_view text,
                                std::string_view content);

}  // namespace llmbatch::tokenizer
