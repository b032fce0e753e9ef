// `llmbatch tokenize` and `llmbatch detokenize`: a tokenizer.json from the
// shell, and a dataset pre-tokenized with all cores.
//
//   llmbatch tokenize --tokenizer DIR --text "Hello"            -> [9906]
//   llmbatch tokenize --tokenizer DIR --input d.jsonl --output t.jsonl
//   llmbatch detokenize --tokenizer DIR --ids 9906,1917
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli/command.h"
#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace llmbatch::cli {
namespace {

using tokenizer::EncodeOptions;
using tokenizer::Tokenizer;

// Records read and encoded at a time in batch mode: bounds memory on big
// datasets while giving every thread plenty of work.
constexpr size_t kBatchRecords = 8192;

struct TokenizeArgs {
  std::string tokenizer;
  std::optional<std::string> text;
  std::optional<std::string> file;
  std::optional<std::string> input;
  std::optional<std::string> output;
  std::string field = "text";
  bool add_special_tokens = false;
  bool no_parse_special = false;
  size_t threads = 0;
};

struct DetokenizeArgs {
  std::string tokenizer;
  std::string ids;
  bool skip_special_tokens = false;
};

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open " + path + ": " + errno_text(errno), {.file = path});
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string ids_json(const std::vector<uint32_t>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(ids[i]);
  }
  return out + "]";
}

std::string record_text(const std::string& line, const std::string& field, const std::string& path,
                        size_t line_no) {
  const ErrorContext where{.file = path + ":" + std::to_string(line_no), .key = field};
  nlohmann::json record;
  try {
    record = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(std::string("line is not valid JSON: ") + e.what(), where);
  }
  if (!record.is_object() || !record.contains(field) || !record[field].is_string()) {
    throw InputError("record has no string field '" + field + "'", where,
                     "pick the field with --field");
  }
  return record[field].get<std::string>();
}

// Streams a JSONL dataset through encode_batch, writing one {"ids": [...]}
// per input line, in order.
int run_batch(const Tokenizer& tok, const TokenizeArgs& a, const EncodeOptions& options) {
  std::ifstream in(*a.input, std::ios::binary);
  if (!in) throw IoError("cannot open " + *a.input + ": " + errno_text(errno), {.file = *a.input});
  const std::string tmp = *a.output + ".partial";
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  if (!out) throw IoError("cannot create " + tmp + ": " + errno_text(errno), {.file = tmp});
  std::vector<std::string> texts;
  std::string line;
  size_t line_no = 0;
  auto flush = [&] {
    for (const auto& ids : tok.encode_batch(texts, options, a.threads)) {
      out << "{\"ids\":" << ids_json(ids) << "}\n";
    }
    texts.clear();
  };
  while (std::getline(in, line)) {
    ++line_no;
    texts.push_back(record_text(line, a.field, *a.input, line_no));
    if (texts.size() == kBatchRecords) flush();
  }
  flush();
  out.close();
  if (!out) throw IoError("cannot write " + tmp + ": " + errno_text(errno), {.file = tmp});
  if (std::rename(tmp.c_str(), a.output->c_str()) != 0) {
    throw IoError("cannot rename " + tmp + ": " + errno_text(errno), {.file = *a.output});
  }
  return 0;
}

int run_tokenize(const TokenizeArgs& a) {
  const int sources = (a.text ? 1 : 0) + (a.file ? 1 : 0) + (a.input ? 1 : 0);
  if (sources != 1) {
    throw ConfigError("give exactly one of --text, --file and --input", {},
                      "--input data.jsonl --output tokens.jsonl encodes a dataset");
  }
  if (a.input.has_value() != a.output.has_value()) {
    throw ConfigError("--input and --output go together", {.key = "--output"});
  }
  const Tokenizer tok = Tokenizer::load(a.tokenizer);
  const EncodeOptions options{.add_special_tokens = a.add_special_tokens,
                              .parse_special = !a.no_parse_special};
  if (a.input) return run_batch(tok, a, options);
  const std::string text = a.text ? *a.text : read_whole_file(*a.file);
  std::printf("%s\n", ids_json(tok.encode(text, options)).c_str());
  return 0;
}

std::vector<uint32_t> parse_ids(const std::string& list) {
  std::vector<uint32_t> ids;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t used = 0;
    unsigned long value = 0;
    try {
      value = std::stoul(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || value > UINT32_MAX) {
      throw ConfigError("'" + item + "' is not a token id", {.key = "--ids"},
                        "give ids as a comma-separated list: 1,2,3");
    }
    ids.push_back(static_cast<uint32_t>(value));
  }
  return ids;
}

int run_detokenize(const DetokenizeArgs& a) {
  const Tokenizer tok = Tokenizer::load(a.tokenizer);
  const std::string text = tok.decode(parse_ids(a.ids), a.skip_special_tokens);
  std::printf("%s\n", text.c_str());
  return 0;
}

}  // namespace

void add_tokenizer_commands(CLI::App& app, CommandAction& action) {
  auto* tok = app.add_subcommand("tokenize", "encode text with a tokenizer.json, print the ids");
  auto t = std::make_shared<TokenizeArgs>();
  tok->add_option("--tokenizer", t->tokenizer, "tokenizer.json or a model directory")->required();
  tok->add_option("--text", t->text, "the text to encode");
  tok->add_option("--file", t->file, "a file whose whole content is encoded");
  tok->add_option("--input", t->input, "a JSONL dataset to encode (batch mode)");
  tok->add_option("--output", t->output, "batch mode: JSONL with one {\"ids\": [...]} per line");
  tok->add_option("--field", t->field, "batch mode: the record field holding the text")
      ->capture_default_str();
  tok->add_option("--threads", t->threads, "batch mode: threads (default: all cores)");
  tok->add_flag("--add-special-tokens", t->add_special_tokens,
                "add BOS/EOS as the post-processor says");
  tok->add_flag("--no-parse-special", t->no_parse_special,
                "read special-token text such as <|endoftext|> as plain text");
  tok->callback([t, &action] { action = [t] { return run_tokenize(*t); }; });

  auto* detok = app.add_subcommand("detokenize", "decode token ids to text");
  auto d = std::make_shared<DetokenizeArgs>();
  detok->add_option("--tokenizer", d->tokenizer, "tokenizer.json or a model directory")->required();
  detok->add_option("--ids", d->ids, "comma-separated ids, e.g. 1,2,3")->required();
  detok->add_flag("--skip-special-tokens", d->skip_special_tokens, "leave special tokens out");
  detok->callback([d, &action] { action = [d] { return run_detokenize(*d); }; });
}

}  // namespace llmbatch::cli
