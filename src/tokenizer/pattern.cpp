#include "tokenizer/pattern.h"

#include <vector>

#include "core/error.h"

namespace llmbatch::tokenizer {

std::unique_ptr<Regex> pattern_from_json(const Json& spec, const JsonPath& at) {
  if (const Json* s = json_find(spec, "String"); s != nullptr && s->is_string()) {
    return std::make_unique<Regex>(s->get<std::string>(), /*literal=*/true, (at / "String").key);
  }
  if (const Json* r = json_find(spec, "Regex"); r != nullptr && r->is_string()) {
    return std::make_unique<Regex>(r->get<std::string>(), /*literal=*/false, (at / "Regex").key);
  }
  throw ModelFormatError("a pattern must be {\"String\": ...} or {\"Regex\": ...}",
                         {.file = at.file, .key = at.key});
}

std::string pattern_replace_all(const Regex& pattern, std::string_view text,
                                std::string_view content) {
  std::vector<MatchSpan> matches;
  pattern.find_all(text, matches);
  if (matches.empty()) return std::string(text);
  std::string out;
  out.reserve(text.size());
  size_t prev = 0;
  for (const MatchSpan& m : matches) {
    out.append(text, prev, m.begin - prev);
    out += content;
    prev = m.end;
  }
  out.append(text, prev);
  return out;
}

}  // namespace llmbatch::tokenizer
