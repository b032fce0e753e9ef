#include "tokenizer/tokenizer.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/error.h"
#include "core/json_error.h"
#include "core/log.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/decoder.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/utf8.h"

namespace llmbatch::tokenizer {
namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw IoError("cannot open " + path.string() + ": " + errno_text(errno), {.file = path.string()});
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

Json parse_json(std::string_view text, const std::string& source) {
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    throw ModelFormatError(std::string("not valid JSON: ") + e.what(),
                           {.file = source, .offset = json_error_byte(e)},
                           "the file may be truncated or not a tokenizer.json");
  }
}

}  // namespace

Tokenizer::Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::load(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path file = path;
  fs::path config;
  if (fs::is_directory(file)) {
    config = file / "tokenizer_config.json";
    file /= "tokenizer.json";
  }
  if (!fs::exists(file)) {
    throw IoError("no tokenizer.json at " + path, {.file = file.string()},
                  "pass a tokenizer.json file or a model directory that holds one");
  }
  Tokenizer tok = from_json(read_file(file), file.string());
  if (!config.empty() && fs::exists(config)) {
    tok.config_ = parse_json(read_file(config), config.string());
    if (!tok.config_.is_object()) {
      throw ModelFormatError("tokenizer_config.json must hold a JSON object",
                             {.file = config.string()});
    }
  }
  return tok;
}

Tokenizer Tokenizer::from_json(std::string_view json_text, const std::string& source) {
  const Json root = parse_json(json_text, source);
  const JsonPath at{source, ""};
  if (!root.is_object()) {
    throw ModelFormatError(std::string("a tokenizer.json must hold a JSON object, not ") +
                               root.type_name(),
                           {.file = source});
  }
  for (const char* ignored : {"truncation", "padding"}) {
    if (json_find(root, ignored) != nullptr) {
      spdlog::warn("{}: '{}' is ignored; llmbatch applies the job's length limits itself",
                   source, ignored);
    }
  }
  Tokenizer tok;
  if (const Json* n = json_find(root, "normalizer")) {
    tok.normalizer_ = normalizer_from_json(*n, at / "normalizer");
  }
  bool byte_level = false;
  if (const Json* p = json_find(root, "pre_tokenizer")) {
    tok.pre_tokenizer_ = pre_tokenizer_from_json(*p, at / "pre_tokenizer", &byte_level);
  }
  const Json& model = json_require(root, "model", at);
  const std::string type = json_find(model, "type") != nullptr ? json_type(model, at / "model")
                                                               : std::string("(missing)");
  if (type != "BPE") {
    throw UnsupportedError("model type '" + type + "' is not implemented",
                           {.file = source, .key = "model.type"},
                           "llmbatch implements BPE tokenizers (GPT-2, Llama, Qwen, Mistral)");
  }
  tok.model_ = std::make_unique<BpeModel>(model, at / "model", byte_level);
  if (const Json* added = json_find(root, "added_tokens")) {
    tok.added_ = AddedVocabulary(*added, at / "added_tokens", tok.normalizer_.get(), *tok.model_);
  }
  if (const Json* post = json_find(root, "post_processor")) {
    tok.post_processor_ = PostProcessor(*post, at / "post_processor");
  }
  if (const Json* d = json_find(root, "decoder")) {
    tok.decoder_ = decoder_from_json(*d, at / "decoder");
  }
  return tok;
}

void Tokenizer::encode_piece(std::string_view text, bool at_start, bool parse_special,
                             std::vector<uint32_t>& ids) const {
  std::string normalized;
  if (normalizer_) {
    normalized.assign(text);
    normalizer_->normalize(normalized);
    text = normalized;
  }
  std::vector<Segment> segments;
  added_.split(text, /*normalized=*/true, parse_special, segments);
  PreTokenized pt;
  for (const Segment& s : segments) {
    if (s.id) {
      ids.push_back(*s.id);
      continue;
    }
    if (s.begin == s.end) continue;
    pt.buffer.assign(text.substr(s.begin, s.end - s.begin));
    pt.pieces.assign(1, Piece{0, pt.buffer.size(), at_start && s.begin == 0});
    if (pre_tokenizer_) pre_tokenizer_->pre_tokenize(pt);
    for (const Piece& p : pt.pieces) model_->tokenize(pt.text(p), ids);
  }
}

std::vector<uint32_t> Tokenizer::encode(std::string_view input, const EncodeOptions& options) const {
  std::string sanitized;
  std::string_view text = input;
  if (!utf8_is_valid(input)) {
    sanitized = utf8_sanitize(input);
    text = sanitized;
  }
  std::vector<uint32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  std::vector<Segment> segments;
  added_.split(text, /*normalized=*/false, options.parse_special, segments);
  for (const Segment& s : segments) {
    if (s.id) {
      ids.push_back(*s.id);
    } else if (s.begin != s.end) {
      encode_piece(text.substr(s.begin, s.end - s.begin), s.begin == 0, options.parse_special,
                   ids);
    }
  }
  if (options.add_special_tokens) return post_processor_.apply(std::move(ids));
  return ids;
}

std::vector<std::vector<uint32_t>> Tokenizer::encode_batch(std::span<const std::string> texts,
                                                           const EncodeOptions& options,
                                                           size_t threads) const {
  std::vector<std::vector<uint32_t>> out(texts.size());
  if (threads == 0) threads = std::max<size_t>(1, std::thread::hardware_concurrency());
  threads = std::min(threads, std::max<size_t>(1, texts.size()));
  std::atomic<size_t> next{0};
  std::exception_ptr error;
  std::atomic<bool> failed{false};
  auto work = [&] {
    try {
      for (size_t i = next++; i < texts.size() && !failed; i = next++) {
        out[i] = encode(texts[i], options);
      }
    } catch (...) {
      if (!failed.exchange(true)) error = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  return out;
}

std::string Tokenizer::decode(std::span<const uint32_t> ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (uint32_t id : ids) {
    if (const AddedToken* t = added_.find(id)) {
      if (!(skip_special_tokens && t->special)) tokens.push_back(t->content);
      continue;
    }
    const std::string* s = model_->id_to_token(id);
    if (s == nullptr) {
      throw InputError("token id " + std::to_string(id) + " is not in the vocabulary", {},
                       "ids must be below " + std::to_string(vocab_size()));
    }
    tokens.push_back(*s);
  }
  if (!decoder_) {
    std::string out;
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0) out += ' ';
      out += tokens[i];
    }
    return out;
  }
  decoder_->decode_chain(tokens);
  std::string out;
  for (const std::string& t : tokens) out += t;
  return out;
}

std::optional<uint32_t> Tokenizer::token_to_id(std::string_view token) const {
  if (auto id = added_.find(token)) return id;
  return model_->token_to_id(token);
}

std::optional<std::string> Tokenizer::id_to_token(uint32_t id) const {
  if (const AddedToken* t = added_.find(id)) return t->content;
  if (const std::string* s = model_->id_to_token(id)) return *s;
  return std::nullopt;
}

bool Tokenizer::is_special(uint32_t id) const {
  const AddedToken* t = added_.find(id);
  return t != nullptr && t->special;
}

size_t Tokenizer::vocab_size() const {
  size_t n = model_->vocab_size();
  for (const AddedToken& t : added_.tokens()) n = std::max<size_t>(n, t.id + 1);
  return n;
}

std::optional<std::string> Tokenizer::config_token(const char* key) const {
  const Json* v = json_find(config_, key);
  if (v == nullptr) return std::nullopt;
  if (v->is_string()) return v->get<std::string>();
  if (const Json* c = json_find(*v, "content"); c != nullptr && c->is_string()) {
    return c->get<std::string>();
  }
  return std::nullopt;
}

std::optional<std::string> Tokenizer::bos_token() const { return config_token("bos_token"); }
std::optional<std::string> Tokenizer::eos_token() const { return config_token("eos_token"); }

}  // namespace llmbatch::tokenizer
