#include "tokenizer/bpe_model.h"

#include <atomic>
#include <queue>

#include "core/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace llmbatch::tokenizer {
namespace {

constexpr uint64_t kEmptyKey = ~uint64_t{0};
// Words longer than this are not cached: they are rare, and a SentencePiece
// tokenizer without a pre-tokenizer hands whole documents to the model.
constexpr size_t kMaxCachedWord = 256;
constexpr size_t kMaxCacheEntries = 1 << 16;

uint64_t pair_key(uint32_t left, uint32_t right) {
  return (static_cast<uint64_t>(left) << 32) | right;
}

size_t pair_slot(uint64_t key, uint64_t mask) {
  return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 20) & mask;
}

// Recent words and their ids, per thread; cleared when another model uses it
// or when it is full (a crude but allocation-free eviction).
struct WordCache {
  uint64_t owner = 0;
  std::unordered_map<std::string, std::vector<uint32_t>, StringHash, std::equal_to<>> words;
};

WordCache& thread_cache(uint64_t owner) {
  thread_local WordCache cache;
  if (cache.owner != owner) {
    cache.words.clear();
    cache.owner = owner;
  }
  return cache;
}

uint64_t next_model_identity() {
  static std::atomic<uint64_t> counter{1};
  return counter.fetch_add(1);
}

std::pair<std::string, std::string> merge_pair(const Json& m, const JsonPath& at) {
  if (m.is_string()) {
    const auto& s = m.get_ref<const std::string&>();
    const size_t space = s.find(' ');
    if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos) {
      throw ModelFormatError("merge '" + s + "' is not two tokens separated by one space",
                             {.file = at.file, .key = at.key});
    }
    return {s.substr(0, space), s.substr(space + 1)};
  }
  if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
    return {m[0].get<std::string>(), m[1].get<std::string>()};
  }
  throw ModelFormatError("a merge must be \"a b\" or [\"a\", \"b\"]",
                         {.file = at.file, .key = at.key});
}

}  // namespace

BpeModel::BpeModel(const Json& spec, const JsonPath& at, bool byte_level)
    : byte_level_(byte_level), cache_owner_(next_model_identity()) {
  if (const Json* d = json_find(spec, "dropout");
      d != nullptr && !(d->is_number() && d->get<double>() == 0.0)) {
    throw UnsupportedError("BPE dropout is not implemented (encoding would not be deterministic)",
                           {.file = at.file, .key = (at / "dropout").key},
                           "set \"dropout\": null");
  }
  for (const char* affix : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    const Json* a = json_find(spec, affix);
    if (a != nullptr && !(a->is_string() && a->get_ref<const std::string&>().empty())) {
      throw UnsupportedError(std::string("BPE ") + affix + " is not implemented",
                             {.file = at.file, .key = (at / affix).key});
    }
  }
  ignore_merges_ = json_bool(spec, "ignore_merges", at, false);
  byte_fallback_ = json_bool(spec, "byte_fallback", at, false);
  fuse_unk_ = json_bool(spec, "fuse_unk", at, false);

  const Json& vocab = json_require(spec, "vocab", at);
  if (!vocab.is_object()) {
    throw ModelFormatError("'vocab' must be an object of token to id",
                           {.file = at.file, .key = (at / "vocab").key});
  }
  vocab_.reserve(vocab.size());
  for (const auto& [token, id] : vocab.items()) {
    if (!id.is_number_unsigned() || id.get<uint64_t>() >= (uint64_t{1} << 31)) {
      throw ModelFormatError("the id of token '" + token + "' is not a valid id",
                             {.file = at.file, .key = (at / "vocab" / token).key});
    }
    const auto i = id.get<uint32_t>();
    vocab_[token] = i;
    if (i >= id_to_token_.size()) {
      id_to_token_.resize(i + 1);
      has_id_.resize(i + 1, false);
    }
    id_to_token_[i] = token;
    has_id_[i] = true;
  }

  if (byte_level_) {
    byte_symbol_.assign(256, -1);
    for (const auto& [token, id] : vocab_) {
      if (auto bytes = byte_level_decode(token)) {
        if (bytes->size() == 1) byte_symbol_[static_cast<unsigned char>((*bytes)[0])] = id;
        symbols_.emplace(std::move(*bytes), id);
      }
    }
  }
  if (!byte_level_) {
    for (const auto& [token, id] : vocab_) {
      if (!utf8_is_valid(token)) continue;
      size_t pos = 0;
      char32_t prev = 0;
      for (bool first = true; pos < token.size(); first = false) {
        const char32_t c = utf8_next(token, pos);
        if (!first) char_pairs_.insert((static_cast<uint64_t>(prev) << 21) | c);
        prev = c;
      }
      pos = 0;
      if (!token.empty() && (utf8_next(token, pos), pos == token.size())) {
        pos = 0;
        single_chars_.insert(utf8_next(token, pos));
      }
    }
  }
  if (byte_fallback_) {
    byte_fallback_id_.assign(256, -1);
    static const char* kHex = "0123456789ABCDEF";
    for (int b = 0; b < 256; ++b) {
      const std::string name = std::string("<0x") + kHex[b >> 4] + kHex[b & 15] + ">";
      if (auto it = vocab_.find(name); it != vocab_.end()) byte_fallback_id_[b] = it->second;
    }
  }
  if (const Json* unk = json_find(spec, "unk_token")) {
    if (!unk->is_string()) {
      throw ModelFormatError("'unk_token' must be a string or null",
                             {.file = at.file, .key = (at / "unk_token").key});
    }
    const auto it = vocab_.find(unk->get<std::string>());
    if (it == vocab_.end()) {
      throw ModelFormatError("unk_token '" + unk->get<std::string>() + "' is not in the vocab",
                             {.file = at.file, .key = (at / "unk_token").key});
    }
    unk_id_ = it->second;
  }

  const Json& merges = json_require(spec, "merges", at);
  if (!merges.is_array()) {
    throw ModelFormatError("'merges' must be a list",
                           {.file = at.file, .key = (at / "merges").key});
  }
  size_t capacity = 16;
  while (capacity < merges.size() * 2) capacity *= 2;
  merge_keys_.assign(capacity, kEmptyKey);
  merge_values_.assign(capacity, 0);
  merge_mask_ = capacity - 1;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const JsonPath where = (at / "merges")[rank];
    const auto [left, right] = merge_pair(merges[rank], where);
    const auto l = vocab_.find(left), r = vocab_.find(right), m = vocab_.find(left + right);
    if (l == vocab_.end() || r == vocab_.end() || m == vocab_.end()) {
      const std::string& missing = l == vocab_.end() ? left : r == vocab_.end() ? right
                                                                                 : left + right;
      throw ModelFormatError("merge '" + left + " " + right + "' uses token '" + missing +
                                 "', which is not in the vocab",
                             {.file = where.file, .key = where.key});
    }
    const uint64_t key = pair_key(l->second, r->second);
    size_t slot = pair_slot(key, merge_mask_);
    while (merge_keys_[slot] != kEmptyKey && merge_keys_[slot] != key) {
      slot = (slot + 1) & merge_mask_;
    }
    // A repeated pair keeps its last rank, as the Rust library's map does.
    merge_keys_[slot] = key;
    merge_values_[slot] = (static_cast<uint64_t>(rank) << 32) | m->second;
  }
}

std::optional<uint32_t> BpeModel::token_to_id(std::string_view token) const {
  const auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* BpeModel::id_to_token(uint32_t id) const {
  if (id >= id_to_token_.size() || !has_id_[id]) return nullptr;
  return &id_to_token_[id];
}

std::optional<std::pair<uint32_t, uint32_t>> BpeModel::find_merge(uint32_t left,
                                                                  uint32_t right) const {
  const uint64_t key = pair_key(left, right);
  for (size_t slot = pair_slot(key, merge_mask_);; slot = (slot + 1) & merge_mask_) {
    if (merge_keys_[slot] == key) {
      return std::make_pair(static_cast<uint32_t>(merge_values_[slot] >> 32),
                            static_cast<uint32_t>(merge_values_[slot]));
    }
    if (merge_keys_[slot] == kEmptyKey) return std::nullopt;
  }
}

void BpeModel::tokenize(std::string_view word, std::vector<uint32_t>& ids) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    const TokenMap& map = byte_level_ ? symbols_ : vocab_;
    if (auto it = map.find(word); it != map.end()) {
      ids.push_back(it->second);
      return;
    }
  }
  if (!byte_level_ && word.size() > kMaxCachedWord) {
    tokenize_long(word, ids);
    return;
  }
  tokenize_cached(word, ids);
}

void BpeModel::tokenize_cached(std::string_view word, std::vector<uint32_t>& ids) const {
  if (word.size() > kMaxCachedWord) {
    tokenize_uncached(word, ids);
    return;
  }
  WordCache& cache = thread_cache(cache_owner_);
  if (auto it = cache.words.find(word); it != cache.words.end()) {
    ids.insert(ids.end(), it->second.begin(), it->second.end());
    return;
  }
  const size_t first = ids.size();
  tokenize_uncached(word, ids);
  if (cache.words.size() >= kMaxCacheEntries) cache.words.clear();
  cache.words.emplace(std::string(word), std::vector<uint32_t>(ids.begin() + first, ids.end()));
}

// SentencePiece tokenizers without a pre-tokenizer hand whole documents to
// BPE. Cutting where no merge can cross (see char_pairs_) gives the same ids
// as one BPE over the document, in word-sized pieces that the cache serves.
// Unknown characters are never cut apart, as fuse_unk may join them.
void BpeModel::tokenize_long(std::string_view word, std::vector<uint32_t>& ids) const {
  size_t start = 0, pos = 0;
  char32_t prev = utf8_next(word, pos);
  bool prev_known = single_chars_.contains(prev);
  while (pos < word.size()) {
    const size_t here = pos;
    const char32_t c = utf8_next(word, pos);
    const bool known = single_chars_.contains(c);
    if (known && prev_known && !char_pairs_.contains((static_cast<uint64_t>(prev) << 21) | c)) {
      tokenize_cached(word.substr(start, here - start), ids);
      start = here;
    }
    prev = c;
    prev_known = known;
  }
  tokenize_cached(word.substr(start), ids);
}

void BpeModel::tokenize_uncached(std::string_view word, std::vector<uint32_t>& ids) const {
  std::vector<Symbol> symbols;
  initial_symbols(word, symbols);
  merge(symbols);
  for (const Symbol& s : symbols) {
    if (s.id != UINT32_MAX) ids.push_back(s.id);
  }
}

// One character (one byte when byte-level) that is not a symbol of its own:
// its bytes as <0xNN> when all exist, else the unknown token (fused with a
// preceding one when fuse_unk), else nothing, as in the Rust library.
void BpeModel::add_unit(std::string_view unit, std::vector<Symbol>& symbols,
                        std::optional<uint32_t>& pending_unk) const {
  auto push = [&symbols](uint32_t id) {
    const auto n = static_cast<int32_t>(symbols.size());
    symbols.push_back({id, n - 1, n + 1});
  };
  if (byte_fallback_) {
    bool all = true;
    for (unsigned char b : unit) all &= byte_fallback_id_[b] >= 0;
    if (all) {
      for (unsigned char b : unit) push(static_cast<uint32_t>(byte_fallback_id_[b]));
      return;
    }
  }
  if (!unk_id_) return;
  if (pending_unk && !fuse_unk_) push(*pending_unk);
  pending_unk = unk_id_;
}

void BpeModel::initial_symbols(std::string_view word, std::vector<Symbol>& symbols) const {
  symbols.reserve(word.size());
  std::optional<uint32_t> pending_unk;
  auto push_known = [&](uint32_t id) {
    if (pending_unk) {
      const auto n = static_cast<int32_t>(symbols.size());
      symbols.push_back({*pending_unk, n - 1, n + 1});
      pending_unk.reset();
    }
    const auto n = static_cast<int32_t>(symbols.size());
    symbols.push_back({id, n - 1, n + 1});
  };
  if (byte_level_) {
    for (unsigned char b : word) {
      if (byte_symbol_[b] >= 0) {
        push_known(static_cast<uint32_t>(byte_symbol_[b]));
      } else {
        add_unit(byte_level_encode(std::string_view(reinterpret_cast<const char*>(&b), 1)),
                 symbols, pending_unk);
      }
    }
  } else {
    size_t pos = 0;
    while (pos < word.size()) {
      const size_t start = pos;
      pos += utf8_seq_len(static_cast<unsigned char>(word[pos]));
      const std::string_view unit = word.substr(start, pos - start);
      if (auto it = vocab_.find(unit); it != vocab_.end()) {
        push_known(it->second);
      } else {
        add_unit(unit, symbols, pending_unk);
      }
    }
  }
  if (pending_unk) {
    const auto n = static_cast<int32_t>(symbols.size());
    symbols.push_back({*pending_unk, n - 1, n + 1});
  }
  if (!symbols.empty()) symbols.back().next = -1;
}

// Merges the lowest-ranked adjacent pair first, leftmost among equals, until
// no pair merges: the Rust library's priority-queue algorithm, which costs
// O(n log n) on the long words of pre-tokenizer-less SentencePiece models.
void BpeModel::merge(std::vector<Symbol>& symbols) const {
  struct Candidate {
    uint32_t rank;
    int32_t pos;
    uint32_t new_id;
    bool operator<(const Candidate& o) const {  // the heap's top is the smallest
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  std::priority_queue<Candidate> queue;
  for (size_t i = 0; i + 1 < symbols.size(); ++i) {
    if (auto m = find_merge(symbols[i].id, symbols[i + 1].id)) {
      queue.push({m->first, static_cast<int32_t>(i), m->second});
    }
  }
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.pos];
    if (left.id == UINT32_MAX || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    const auto current = find_merge(left.id, right.id);
    if (!current || current->second != top.new_id) continue;  // stale candidate
    left.id = top.new_id;
    right.id = UINT32_MAX;  // removed
    left.next = right.next;
    if (left.next >= 0) symbols[left.next].prev = top.pos;
    if (left.prev >= 0) {
      if (auto m = find_merge(symbols[left.prev].id, left.id)) {
        queue.push({m->first, left.prev, m->second});
      }
    }
    if (left.next >= 0) {
      if (auto m = find_merge(left.id, symbols[left.next].id)) {
        queue.push({m->first, top.pos, m->second});
      }
    }
  }
}

}  // namespace llmbatch::tokenizer
