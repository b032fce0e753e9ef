#include "io/input_parse.h"

#include <array>
#include <optional>

#include "core/error.h"

namespace llmbatch {
namespace {

using OrderedJson = nlohmann::ordered_json;

// Deeper JSON is refused before it is built: copying and destroying nested
// values recurses, and a line of 16 MiB of '[' would overflow the stack.
constexpr int kMaxJsonDepth = 256;

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// Body keys of an OpenAI batch request copied unchanged into
// InputRecord::sampling (the sampling module checks their values).
constexpr std::array<const char*, 13> kOpenAiSamplingKeys = {
    "temperature", "top_p", "top_k", "min_p", "presence_penalty", "frequency_penalty",
    "repetition_penalty", "stop", "seed", "n", "logit_bias", "ignore_eos", "min_tokens"};

// Collects the record and its first error.
class RecordBuilder {
 public:
  RecordBuilder(const LineOrigin& origin) : origin_(origin) {
    record_.index = origin.index;
    record_.id = std::to_string(origin.index);
  }
  void fail(const std::string& what) {
    if (record_.error.empty()) record_.error = origin_.file + ":" + std::to_string(origin_.line) + ": " + what;
  }
  InputRecord& record() { return record_; }
  InputRecord take() { return std::move(record_); }

 private:
  const LineOrigin& origin_;
  InputRecord record_;
};

struct TooDeep {};

std::optional<OrderedJson> parse_json(std::string_view text, RecordBuilder& out) {
  try {
    return OrderedJson::parse(text, [](int depth, OrderedJson::parse_event_t, OrderedJson&) {
      if (depth > kMaxJsonDepth) throw TooDeep{};
      return true;
    });
  } catch (const OrderedJson::exception& e) {
    std::string what = e.what();  // "[json.exception.parse_error.101] parse error at ..."
    if (const size_t end = what.find("] "); what.starts_with("[json.exception") && end != std::string::npos) {
      what.erase(0, end + 2);
    }
    out.fail("invalid JSON: " + what);
  } catch (const TooDeep&) {
    out.fail("JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  return std::nullopt;
}

// The value at `key`, or nullptr when absent or null (JSON null = not given).
const OrderedJson* find(const OrderedJson& object, const std::string& key) {
  const auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::string got(const OrderedJson& value) { return std::string(", got ") + value.type_name(); }

// A required non-empty string (`allow_empty` for a score context).
bool read_string(const OrderedJson& value, const std::string& name, std::string& dst, RecordBuilder& out,
                 bool allow_empty = false) {
  if (!value.is_string()) {
    out.fail("'" + name + "' must be a string" + got(value));
    return false;
  }
  dst = value.get<std::string>();
  if (dst.empty() && !allow_empty) {
    out.fail("'" + name + "' is empty");
    return false;
  }
  return true;
}

void read_id(const OrderedJson& object, const std::string& key, RecordBuilder& out) {
  const OrderedJson* id = find(object, key);
  if (id == nullptr) return;
  if (id->is_number_integer()) {
    out.record().id = id->dump();
  } else if (id->is_string() && !id->get_ref<const std::string&>().empty()) {
    out.record().id = id->get<std::string>();
  } else {
    out.fail("'" + key + "' must be a non-empty string or an integer" + (id->is_string() ? "" : got(*id)));
  }
}

void read_messages(const OrderedJson& messages, const std::string& name, RecordBuilder& out) {
  out.record().kind = RecordKind::kMessages;
  out.record().messages = messages;
  if (!messages.is_array() || messages.empty()) {
    out.fail("'" + name + "' must be a non-empty list of messages" + (messages.is_array() ? "" : got(messages)));
    return;
  }
  for (size_t i = 0; i < messages.size(); ++i) {
    const OrderedJson& m = messages[i];
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) {
      out.fail("'" + name + "[" + std::to_string(i) + "]' must be an object with a string 'role'");
      return;
    }
  }
}

// Generate mode: `field` (a prompt) or `messages` (a chat), one of them.
void read_generate(const OrderedJson& object, const std::string& field, const std::string& where,
                   RecordBuilder& out) {
  const OrderedJson* prompt = find(object, field);
  const OrderedJson* messages = find(object, "messages");
  if (prompt != nullptr && messages != nullptr) {
    out.fail("both '" + where + field + "' and '" + where + "messages' are given; keep one");
  } else if (prompt != nullptr) {
    out.record().kind = RecordKind::kPrompt;
    read_string(*prompt, where + field, out.record().prompt, out);
  } else if (messages != nullptr) {
    read_messages(*messages, where + "messages", out);
  } else {
    out.fail("missing '" + where + field + "' (or '" + where + "messages')");
  }
}

// Score mode: a text (`field`, else `text`) or a context and continuation.
void read_score(const OrderedJson& object, const std::string& field, RecordBuilder& out) {
  const std::string text_key = find(object, field) != nullptr ? field : "text";
  const OrderedJson* text = find(object, text_key);
  const OrderedJson* context = find(object, "context");
  const OrderedJson* continuation = find(object, "continuation");
  InputRecord& r = out.record();
  if (context != nullptr || continuation != nullptr) {
    r.kind = RecordKind::kContinuation;
    if (text != nullptr) out.fail("both '" + text_key + "' and 'context'/'continuation' are given; keep one");
    if (context == nullptr || continuation == nullptr) {
      out.fail(std::string("missing '") + (context == nullptr ? "context" : "continuation") +
               "' (score records with a continuation need both)");
    }
    if (context != nullptr) read_string(*context, "context", r.prompt, out, /*allow_empty=*/true);
    if (continuation != nullptr) read_string(*continuation, "continuation", r.continuation, out);
  } else if (text != nullptr) {
    r.kind = RecordKind::kScoreText;
    read_string(*text, text_key, r.prompt, out);
  } else {
    out.fail("missing '" + field + "' or 'text' (or 'context' and 'continuation')");
  }
}

void read_jsonl(const OrderedJson& object, const InputOptions& options, RecordBuilder& out) {
  read_id(object, "id", out);
  if (options.mode == InputMode::kScore) {
    read_score(object, options.field, out);
  } else {
    read_generate(object, options.field, "", out);
  }
  if (const OrderedJson* sampling = find(object, "sampling")) {
    if (sampling->is_object()) {
      out.record().sampling = nlohmann::json(*sampling);
    } else {
      out.fail("'sampling' must be an object" + got(*sampling));
    }
  }
}

// logprobs: true + top_logprobs: K (chat API) -> K; logprobs: K (completions API) -> K.
void map_openai_logprobs(const OrderedJson& body, nlohmann::json& sampling, RecordBuilder& out) {
  const OrderedJson* logprobs = find(body, "logprobs");
  const OrderedJson* top = find(body, "top_logprobs");
  if (logprobs != nullptr && logprobs->is_number_integer()) {
    sampling["logprobs"] = logprobs->get<int64_t>();
  } else if (logprobs != nullptr && !logprobs->is_boolean()) {
    out.fail("'body.logprobs' must be true, false or an integer" + got(*logprobs));
  } else if (logprobs != nullptr && logprobs->get<bool>()) {
    if (top != nullptr && !top->is_number_integer()) {
      out.fail("'body.top_logprobs' must be an integer" + got(*top));
    } else {
      sampling["logprobs"] = top != nullptr ? top->get<int64_t>() : 0;
    }
  } else if (top != nullptr) {
    out.fail("'body.top_logprobs' needs 'body.logprobs': true");
  }
}

nlohmann::json map_openai_sampling(const OrderedJson& body, RecordBuilder& out) {
  nlohmann::json sampling = nlohmann::json::object();
  for (const char* key : kOpenAiSamplingKeys) {
    if (const OrderedJson* value = find(body, key)) sampling[key] = nlohmann::json(*value);
  }
  // max_completion_tokens replaced max_tokens in the chat API; the newer wins.
  const OrderedJson* max_tokens = find(body, "max_completion_tokens");
  if (max_tokens == nullptr) max_tokens = find(body, "max_tokens");
  if (max_tokens != nullptr) sampling["max_tokens"] = nlohmann::json(*max_tokens);
  map_openai_logprobs(body, sampling, out);
  return sampling.empty() ? nlohmann::json() : sampling;
}

void read_openai_batch(const OrderedJson& object, RecordBuilder& out) {
  read_id(object, "custom_id", out);
  const OrderedJson* body = find(object, "body");
  if (body == nullptr || !body->is_object()) {
    out.fail(body == nullptr ? "missing 'body'" : "'body' must be an object" + got(*body));
    return;
  }
  read_generate(*body, "prompt", "body.", out);
  out.record().sampling = map_openai_sampling(*body, out);
}

// Byte position of the first invalid UTF-8 sequence, if any (overlong forms,
// surrogates and code points above U+10FFFF are invalid).
std::optional<size_t> find_invalid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) { ++i; continue; }
    int extra = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) extra = 1;
    else if (c == 0xE0) { extra = 2; lo = 0xA0; }
    else if (c == 0xED) { extra = 2; hi = 0x9F; }
    else if (c >= 0xE1 && c <= 0xEF) extra = 2;
    else if (c == 0xF0) { extra = 3; lo = 0x90; }
    else if (c >= 0xF1 && c <= 0xF3) extra = 3;
    else if (c == 0xF4) { extra = 3; hi = 0x8F; }
    else return i;
    if (i + extra >= s.size()) return i;  // cut short
    for (int k = 1; k <= extra; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return i;
    }
    i += extra + 1;
  }
  return std::nullopt;
}

bool is_blank(std::string_view text) {
  return text.find_first_not_of(" \t\r") == std::string_view::npos;
}

}  // namespace

InputRecord parse_input_line(const InputLine& line, const LineOrigin& origin, const InputOptions& options) {
  RecordBuilder out(origin);
  if (options.mode == InputMode::kScore) out.record().kind = RecordKind::kScoreText;
  if (line.too_long) {
    out.fail("line of " + std::to_string(line.length) + " bytes is longer than input.max_record_bytes (" +
             std::to_string(options.max_record_bytes) + ")");
    return out.take();
  }
  if (is_blank(line.text)) {
    out.fail("empty line");
    return out.take();
  }
  switch (options.format) {
    case InputFormat::kText: {
      std::string_view text = line.text;
      // A byte-order mark (Windows editors) is not part of the first prompt.
      if (origin.line == 1 && text.starts_with(kUtf8Bom)) text.remove_prefix(kUtf8Bom.size());
      if (const auto bad = find_invalid_utf8(text)) {
        out.fail("not valid UTF-8 (byte " + std::to_string(*bad + 1) + " of the line)");
      }
      out.record().prompt = std::string(text);
      return out.take();
    }
    case InputFormat::kJsonl:
    case InputFormat::kOpenAiBatch: {
      const auto json = parse_json(line.text, out);
      if (!json) return out.take();
      if (!json->is_object()) {
        out.fail("expected a JSON object" + got(*json));
      } else if (options.format == InputFormat::kJsonl) {
        read_jsonl(*json, options, out);
      } else {
        read_openai_batch(*json, out);
      }
      return out.take();
    }
    case InputFormat::kHdf5Tokens: break;
  }
  throw InternalError("parse_input_line called for hdf5-tokens");
}

}  // namespace llmbatch
