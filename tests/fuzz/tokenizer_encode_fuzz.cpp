// libFuzzer target: Tokenizer::encode on arbitrary bytes (invalid UTF-8
// included), then decode. The first byte picks the tokenizer and options.
// Properties: no crash, decode gives valid UTF-8, and for GPT-2 (byte-level,
// lossless) decode(encode(x)) is x read with errors="replace".
//
// Tokenizers come from LLMBATCH_FIXTURES_DIR (compile definition), or from
// the directory in the environment variable LLMBATCH_FIXTURES_DIR.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace {

using llmbatch::tokenizer::Tokenizer;

std::string fixtures_dir() {
  if (const char* env = std::getenv("LLMBATCH_FIXTURES_DIR")) return env;
#ifdef LLMBATCH_FIXTURES_DIR
  return LLMBATCH_FIXTURES_DIR;
#else
  return "tests/fixtures";
#endif
}

const Tokenizer& gpt2() {
  static const Tokenizer tok = Tokenizer::load(fixtures_dir() + "/tokenizers/gpt2");
  return tok;
}

const Tokenizer& mistral() {
  static const Tokenizer tok = Tokenizer::load(fixtures_dir() + "/tokenizers/mistral");
  return tok;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  const bool use_gpt2 = (mode & 1) != 0;
  const llmbatch::tokenizer::EncodeOptions options{.add_special_tokens = (mode & 2) != 0,
                                                   .parse_special = (mode & 4) != 0};
  const Tokenizer& tok = use_gpt2 ? gpt2() : mistral();
  const auto ids = tok.encode(text, options);
  const std::string decoded = tok.decode(ids, (mode & 8) != 0);
  if (!llmbatch::tokenizer::utf8_is_valid(decoded)) __builtin_trap();
  if (use_gpt2 && (mode & 8) == 0 && decoded != llmbatch::tokenizer::utf8_sanitize(text)) {
    __builtin_trap();
  }
  return 0;
}
