#include "io/results_export.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/segment_file.h"

namespace llmbatch {
namespace {

using nlohmann::json;

constexpr int64_t kBatchRows = 4096;

// A float as the shortest decimal that reads back as the same float (0.1f
// prints as 0.1, not 0.10000000149011612); null for NaN and infinities.
json json_float(float value) {
  if (!std::isfinite(value)) return nullptr;
  char buffer[32];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
  *end = '\0';
  return std::strtod(buffer, nullptr);
}

json json_floats(const std::vector<float>& values, int64_t begin, int64_t end) {
  json out = json::array();
  for (int64_t i = begin; i < end; ++i) out.push_back(json_float(values[i]));
  return out;
}

json null_if_empty(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

// Logprobs are most of an export's volume (k alternatives per generated
// token), so jsonl writes them as text directly: through nlohmann::json
// objects they cost about 1.7 us per alternative, 10x the rest of a row.
void append_float(std::string& out, float value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char buffer[32];
  out.append(buffer, std::to_chars(buffer, buffer + sizeof buffer, value).ptr);
}

void append_int(std::string& out, int64_t value) {
  char buffer[24];
  out.append(buffer, std::to_chars(buffer, buffer + sizeof buffer, value).ptr);
}

bool is_score_row(const ResultColumns& c, int64_t r) {
  return c.status[r] == "ok" && c.finish_reason[r].empty();
}

bool has_logprobs(const ResultColumns& c, int64_t r) { return c.logprob_offsets[r + 1] > c.logprob_offsets[r]; }

// The alternatives of logprob token t: [{"token_id", "logprob"}, ...].
json top_json(const ResultColumns& c, int64_t t) {
  json top = json::array();
  for (int64_t k = c.topk_offsets[t]; k < c.topk_offsets[t + 1]; ++k) {
    top.push_back({{"token_id", c.topk_ids[k]}, {"logprob", json_float(c.topk_values[k])}});
  }
  return top;
}

json jsonl_row(const ResultColumns& c, int64_t r) {
  json row = {{"index", c.index[r]},
              {"id", c.id[r]},
              {"sample", c.sample[r]},
              {"status", c.status[r]},
              {"error", null_if_empty(c.error[r])},
              {"finish_reason", null_if_empty(c.finish_reason[r])},
              {"num_prompt_tokens", c.num_prompt_tokens[r]},
              {"num_output_tokens", c.num_output_tokens[r]}};
  if (c.has_text) row["text"] = c.text[r];
  if (c.has_tokens) {
    row["output_ids"] = std::vector<TokenId>(c.output_ids.begin() + c.output_offsets[r],
                                             c.output_ids.begin() + c.output_offsets[r + 1]);
  }
  if (is_score_row(c, r)) {
    row["prompt_logprobs"] =
        json_floats(c.prompt_logprobs, c.prompt_logprob_offsets[r], c.prompt_logprob_offsets[r + 1]);
    row["sum_logprob"] = c.sum_logprob[r];
    row["is_greedy"] = c.is_greedy[r] != 0;
  }
  return row;
}

// ,"logprobs":{"token_logprobs":[..],"top_logprobs":[[{"id":..,"logprob":..},..],..]}
void append_jsonl_logprobs(std::string& out, const ResultColumns& c, int64_t r) {
  out += ",\"logprobs\":{\"token_logprobs\":[";
  for (int64_t t = c.logprob_offsets[r]; t < c.logprob_offsets[r + 1]; ++t) {
    if (t > c.logprob_offsets[r]) out += ',';
    append_float(out, c.token_logprob[t]);
  }
  out += "],\"top_logprobs\":[";
  for (int64_t t = c.logprob_offsets[r]; t < c.logprob_offsets[r + 1]; ++t) {
    out += t > c.logprob_offsets[r] ? ",[" : "[";
    for (int64_t k = c.topk_offsets[t]; k < c.topk_offsets[t + 1]; ++k) {
      out += k > c.topk_offsets[t] ? ",{\"id\":" : "{\"id\":";
      append_int(out, c.topk_ids[k]);
      out += ",\"logprob\":";
      append_float(out, c.topk_values[k]);
      out += '}';
    }
    out += ']';
  }
  out += "]}";
}

std::string jsonl_line(const ResultColumns& c, int64_t r) {
  std::string line = jsonl_row(c, r).dump();
  if (has_logprobs(c, r)) {
    line.pop_back();  // the closing brace
    append_jsonl_logprobs(line, c, r);
    line += '}';
  }
  return line;
}

// OpenAI's finish reasons know no "eos": the end-of-sequence token is "stop".
json openai_finish_reason(const std::string& reason) {
  if (reason.empty()) return nullptr;
  return reason == "length" ? "length" : "stop";
}

// OpenAI's chat logprobs shape, with token ids where OpenAI has token
// strings (results files hold no tokenizer).
json openai_logprobs(const ResultColumns& c, int64_t r) {
  if (!has_logprobs(c, r)) return nullptr;
  json content = json::array();
  for (int64_t t = c.logprob_offsets[r], i = 0; t < c.logprob_offsets[r + 1]; ++t, ++i) {
    json token = {{"logprob", json_float(c.token_logprob[t])}, {"top_logprobs", top_json(c, t)}};
    if (c.has_tokens) token["token_id"] = c.output_ids[c.output_offsets[r] + i];
    content.push_back(std::move(token));
  }
  return {{"content", std::move(content)}};
}

// One record of an openai-batch export, built from its rows (consecutive in
// a merged file, possibly spread over two batches).
class OpenAiRecord {
 public:
  bool empty() const { return rows_ == 0; }
  int64_t index() const { return index_; }

  void add(const ResultColumns& c, int64_t r) {
    if (rows_++ == 0) {
      index_ = c.index[r];
      custom_id_ = c.id[r];
      prompt_tokens_ = c.num_prompt_tokens[r];
    }
    completion_tokens_ += c.num_output_tokens[r];
    if (c.status[r] != "ok" && error_.empty()) error_ = c.error[r];
    if (is_score_row(c, r)) {
      score_ = {{"sum_logprob", c.sum_logprob[r]},
                {"is_greedy", c.is_greedy[r] != 0},
                {"prompt_logprobs",
                 json_floats(c.prompt_logprobs, c.prompt_logprob_offsets[r], c.prompt_logprob_offsets[r + 1])}};
      return;
    }
    choices_.push_back({{"index", c.sample[r]},
                        {"message", {{"role", "assistant"}, {"content", c.has_text ? json(c.text[r]) : json(nullptr)}}},
                        {"logprobs", openai_logprobs(c, r)},
                        {"finish_reason", openai_finish_reason(c.finish_reason[r])}});
  }

  json line() const {
    const json usage = {{"prompt_tokens", prompt_tokens_},
                        {"completion_tokens", completion_tokens_},
                        {"total_tokens", prompt_tokens_ + completion_tokens_}};
    json response;
    if (!error_.empty()) {
      response = {{"status_code", 400},
                  {"body", {{"error", {{"message", error_}, {"type", "invalid_request_error"}}}}}};
    } else if (!score_.is_null()) {
      response = {{"status_code", 200}, {"body", {{"object", "llmbatch.score"}, {"score", score_}, {"usage", usage}}}};
    } else {
      response = {{"status_code", 200},
                  {"body", {{"object", "chat.completion"}, {"choices", choices_}, {"usage", usage}}}};
    }
    return {{"id", "llmbatch-" + std::to_string(index_)},
            {"custom_id", custom_id_},
            {"response", response},
            {"error", nullptr}};
  }

 private:
  int64_t rows_ = 0, index_ = 0, prompt_tokens_ = 0, completion_tokens_ = 0;
  std::string custom_id_, error_;
  json choices_ = json::array();
  json score_;
};

}  // namespace

ExportFormat parse_export_format(const std::string& name) {
  if (name == "jsonl") return ExportFormat::kJsonl;
  if (name == "openai-batch") return ExportFormat::kOpenAiBatch;
  throw ConfigError("unknown export format '" + name + "'", {.key = "--format"}, "use jsonl or openai-batch");
}

int64_t export_results(const std::string& results_path, ExportFormat format, std::ostream& out,
                       std::optional<int64_t> limit) {
  const SegmentFileReader reader(results_path);
  const int64_t max_lines = limit.value_or(INT64_MAX);
  int64_t lines = 0;
  OpenAiRecord record;
  for (int64_t begin = 0; begin < reader.rows() && lines < max_lines; begin += kBatchRows) {
    const ResultColumns c = reader.read(begin, std::min(reader.rows(), begin + kBatchRows));
    for (int64_t r = 0; r < c.rows() && lines < max_lines; ++r) {
      if (format == ExportFormat::kJsonl) {
        out << jsonl_line(c, r) << '\n';
        ++lines;
        continue;
      }
      if (!record.empty() && record.index() != c.index[r]) {
        out << record.line().dump() << '\n';
        ++lines;
        record = OpenAiRecord();
        if (lines == max_lines) break;
      }
      record.add(c, r);
    }
  }
  if (!record.empty() && lines < max_lines) {
    out << record.line().dump() << '\n';
    ++lines;
  }
  if (!out) throw IoError("cannot write the export", {}, "is the disk full?");
  return lines;
}

}  // namespace llmbatch
