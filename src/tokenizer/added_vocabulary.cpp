#include "tokenizer/added_vocabulary.h"

#include <algorithm>

#include "core/error.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"

namespace llmbatch::tokenizer {
namespace {

char32_t last_char(std::string_view s) {
  size_t start = s.size() - 1;
  while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
  return utf8_next(s, start);
}

// Byte length of the whitespace run that ends `s`.
size_t trailing_space(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    size_t next = start;
    if (!unicode_is_whitespace(utf8_next(s, next))) break;
    end = start;
  }
  return s.size() - end;
}

size_t leading_space(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    size_t next = pos;
    if (!unicode_is_whitespace(utf8_next(s, next))) break;
    pos = next;
  }
  return pos;
}

}  // namespace

void AddedVocabulary::Trie::insert(std::string_view key, int32_t token) {
  if (key.empty()) return;
  first_byte[static_cast<unsigned char>(key[0])] = true;
  int32_t node = 0;
  for (unsigned char b : key) {
    auto& children = nodes[node].children;
    auto it = std::find_if(children.begin(), children.end(),
                           [b](const auto& c) { return c.first == b; });
    if (it != children.end()) {
      node = it->second;
    } else {
      const auto next = static_cast<int32_t>(nodes.size());
      nodes[node].children.emplace_back(b, next);
      nodes.emplace_back();
      node = next;
    }
  }
  // The first token with a spelling wins, as a repeated pattern does in
  // the Rust library's automaton.
  if (nodes[node].token < 0) nodes[node].token = token;
}

std::pair<size_t, int32_t> AddedVocabulary::Trie::longest(std::string_view text,
                                                          size_t pos) const {
  std::pair<size_t, int32_t> best{0, -1};
  int32_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    const auto b = static_cast<unsigned char>(text[i]);
    const auto& children = nodes[node].children;
    auto it = std::find_if(children.begin(), children.end(),
                           [b](const auto& c) { return c.first == b; });
    if (it == children.end()) break;
    node = it->second;
    if (nodes[node].token >= 0) best = {i + 1 - pos, nodes[node].token};
  }
  return best;
}

AddedVocabulary::AddedVocabulary(const Json& list, const JsonPath& at,
                                 const Normalizer* normalizer, const BpeModel& model) {
  if (!list.is_array()) {
    throw ModelFormatError("'added_tokens' must be a list", {.file = at.file, .key = at.key});
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const JsonPath where = at[i];
    AddedToken t;
    t.content = json_string(list[i], "content", where);
    t.single_word = json_bool(list[i], "single_word", where, false);
    t.lstrip = json_bool(list[i], "lstrip", where, false);
    t.rstrip = json_bool(list[i], "rstrip", where, false);
    t.normalized = json_bool(list[i], "normalized", where, true);
    t.special = json_bool(list[i], "special", where, false);
    json_uint(list[i], "id", where);  // present and well-formed, though not decisive
    if (t.content.empty() || !utf8_is_valid(t.content) || find(t.content)) continue;
    t.id = assign_id(t.content, model);
    by_id_[t.id] = tokens_.size();
    tokens_.push_back(std::move(t));
  }
  // Special tokens are registered before the others in the Rust library,
  // which decides which of two tokens with one spelling is found.
  std::vector<size_t> order(tokens_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_partition(order.begin(), order.end(), [&](size_t i) { return tokens_[i].special; });
  for (size_t i : order) {
    const AddedToken& t = tokens_[i];
    if (!t.normalized) {
      raw_.insert(t.content, static_cast<int32_t>(i));
      continue;
    }
    std::string spelled = t.content;
    if (normalizer != nullptr) normalizer->normalize(spelled);
    normalized_.insert(spelled, static_cast<int32_t>(i));
  }
}

uint32_t AddedVocabulary::assign_id(std::string_view content, const BpeModel& model) const {
  if (auto id = model.token_to_id(content)) return *id;
  const auto model_size = static_cast<uint32_t>(model.entry_count());
  uint32_t max_added = 0;
  bool any = false;
  for (const AddedToken& t : tokens_) {
    max_added = any ? std::max(max_added, t.id) : t.id;
    any = true;
  }
  if (!any) return model_size;
  return max_added >= model_size || model_size == 0 ? max_added + 1 : model_size;
}

const AddedToken* AddedVocabulary::find(uint32_t id) const {
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

std::optional<uint32_t> AddedVocabulary::find(std::string_view content) const {
  for (const AddedToken& t : tokens_) {
    if (t.content == content) return t.id;
  }
  return std::nullopt;
}

void AddedVocabulary::split(std::string_view text, bool normalized, bool parse_special,
                            std::vector<Segment>& out) const {
  const Trie& set = trie(normalized);
  size_t cursor = 0;  // end of the last token taken
  size_t pos = 0;     // where the automaton resumes (after its last match)
  while (pos < text.size()) {
    if (!set.first_byte[static_cast<unsigned char>(text[pos])]) {
      ++pos;
      continue;
    }
    const auto [length, index] = set.longest(text, pos);
    if (index < 0) {
      ++pos;
      continue;
    }
    size_t start = pos, stop = pos + length;
    pos = stop;
    const AddedToken& t = tokens_[index];
    if (t.special && !parse_special) continue;
    if (t.single_word) {
      const bool start_ok = start == 0 || !unicode_is_word_char(last_char(text.substr(0, start)));
      size_t next = stop;
      const bool stop_ok = stop == text.size() || !unicode_is_word_char(utf8_next(text, next));
      if (!start_ok || !stop_ok) continue;
    }
    if (t.lstrip) start = std::max(start - trailing_space(text.substr(0, start)), cursor);
    if (t.rstrip) stop += leading_space(text.substr(stop));
    if (cursor < start) out.push_back({cursor, start, std::nullopt});
    out.push_back({start, stop, t.id});
    cursor = stop;
  }
  if (cursor != text.size() || text.empty()) out.push_back({cursor, text.size(), std::nullopt});
}

}  // namespace llmbatch::tokenizer
