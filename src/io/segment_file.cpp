#include "io/segment_file.h"

#include <optional>
#include <span>

#include "core/error.h"

namespace llmbatch {
namespace {

bool is_reserved_attribute(const std::string& name) {
  return name == kFormatAttribute || name == kFormatVersionAttribute || name == kNumRowsAttribute ||
         name == kNumRecordsAttribute;
}

// Offsets [first..] of `offsets` shifted by `base` (what the file already holds).
std::vector<int64_t> shifted_tail(const std::vector<int64_t>& offsets, int64_t base) {
  std::vector<int64_t> out(offsets.begin() + 1, offsets.end());
  for (int64_t& o : out) o += base;
  return out;
}

template <typename T>
void put(H5Column& column, const std::vector<T>& values) {
  column.append(std::span<const T>(values));
}

// A CSR slice as read from a file: the offsets of rows [begin, end]
// rebased to 0 and the absolute range of values they cover.
struct OffsetSlice {
  std::vector<int64_t> offsets;
  int64_t first = 0, last = 0;
};

OffsetSlice read_offsets(const H5ColumnReader& offsets, int64_t begin, int64_t end, const std::string& path,
                         const std::string& name) {
  OffsetSlice s{offsets.read<int64_t>(begin, end + 1)};
  s.first = s.offsets.front();
  s.last = s.offsets.back();
  if (s.last < s.first) throw IoError("offsets decrease (corrupt file)", {.file = path, .key = name});
  for (int64_t& o : s.offsets) o -= s.first;
  return s;
}

}  // namespace

void check_attribute_names(const std::map<std::string, std::string>& attributes) {
  for (const auto& [name, value] : attributes) {
    if (is_reserved_attribute(name)) {
      throw ConfigError("attribute name '" + name + "' is reserved by the results format", {.key = name});
    }
  }
}

struct SegmentFileWriter::Columns {
  std::optional<H5Column> index, sample, id, status, error, finish_reason, num_prompt_tokens, num_output_tokens;
  std::optional<H5Column> prompt_offsets, prompt_ids, output_offsets, output_ids, text;
  std::optional<H5Column> logprob_offsets, token_logprob, topk_offsets, topk_ids, topk_values;
  std::optional<H5Column> prompt_logprob_offsets, prompt_logprobs, sum_logprob, is_greedy;
};

SegmentFileWriter::SegmentFileWriter(const std::string& path, bool has_tokens, bool has_text)
    : path_(path), file_(h5_file_create(path)), columns_(std::make_unique<Columns>()) {
  const hid_t f = file_.get();
  Columns& c = *columns_;
  h5_group_create(f, "records", path);
  c.index = H5Column::create<int64_t>(f, "records/index", path);
  c.sample = H5Column::create<int32_t>(f, "records/sample", path);
  c.id = H5Column::create_strings(f, "records/id", path);
  c.status = H5Column::create_strings(f, "records/status", path);
  c.error = H5Column::create_strings(f, "records/error", path);
  c.finish_reason = H5Column::create_strings(f, "records/finish_reason", path);
  c.num_prompt_tokens = H5Column::create<int32_t>(f, "records/num_prompt_tokens", path);
  c.num_output_tokens = H5Column::create<int32_t>(f, "records/num_output_tokens", path);
  if (has_tokens) {
    h5_group_create(f, "tokens", path);
    c.prompt_offsets = H5Column::create<int64_t>(f, "tokens/prompt_offsets", path);
    c.prompt_ids = H5Column::create<int32_t>(f, "tokens/prompt_ids", path);
    c.output_offsets = H5Column::create<int64_t>(f, "tokens/output_offsets", path);
    c.output_ids = H5Column::create<int32_t>(f, "tokens/output_ids", path);
  }
  if (has_text) {
    h5_group_create(f, "text", path);
    c.text = H5Column::create_strings(f, "text/output", path);
  }
  h5_group_create(f, "logprobs", path);
  c.logprob_offsets = H5Column::create<int64_t>(f, "logprobs/offsets", path);
  c.token_logprob = H5Column::create<float>(f, "logprobs/token", path);
  c.topk_offsets = H5Column::create<int64_t>(f, "logprobs/topk_offsets", path);
  c.topk_ids = H5Column::create<int32_t>(f, "logprobs/topk_ids", path);
  c.topk_values = H5Column::create<float>(f, "logprobs/topk_values", path);
  h5_group_create(f, "scores", path);
  c.prompt_logprob_offsets = H5Column::create<int64_t>(f, "scores/prompt_logprob_offsets", path);
  c.prompt_logprobs = H5Column::create<float>(f, "scores/prompt_logprobs", path);
  c.sum_logprob = H5Column::create<double>(f, "scores/sum_logprob", path);
  c.is_greedy = H5Column::create<uint8_t>(f, "scores/is_greedy", path);
  // Every offsets array starts with the 0 before the first row.
  const std::vector<int64_t> zero{0};
  for (auto* offsets : {&c.prompt_offsets, &c.output_offsets, &c.logprob_offsets, &c.topk_offsets,
                        &c.prompt_logprob_offsets}) {
    if (*offsets) put(**offsets, zero);
  }
}

SegmentFileWriter::~SegmentFileWriter() = default;

int64_t SegmentFileWriter::rows() const { return columns_->index->size(); }

void SegmentFileWriter::append(const ResultColumns& in) {
  Columns& c = *columns_;
  LLMBATCH_CHECK(in.has_tokens == c.prompt_ids.has_value() && in.has_text == c.text.has_value(),
                 "columns store the groups the file was created with");
  put(*c.index, in.index);
  put(*c.sample, in.sample);
  c.id->append_strings(in.id);
  c.status->append_strings(in.status);
  c.error->append_strings(in.error);
  c.finish_reason->append_strings(in.finish_reason);
  put(*c.num_prompt_tokens, in.num_prompt_tokens);
  put(*c.num_output_tokens, in.num_output_tokens);
  if (in.has_tokens) {
    put(*c.prompt_offsets, shifted_tail(in.prompt_offsets, c.prompt_ids->size()));
    put(*c.prompt_ids, in.prompt_ids);
    put(*c.output_offsets, shifted_tail(in.output_offsets, c.output_ids->size()));
    put(*c.output_ids, in.output_ids);
  }
  if (in.has_text) c.text->append_strings(in.text);
  put(*c.logprob_offsets, shifted_tail(in.logprob_offsets, c.token_logprob->size()));
  put(*c.token_logprob, in.token_logprob);
  put(*c.topk_offsets, shifted_tail(in.topk_offsets, c.topk_ids->size()));
  put(*c.topk_ids, in.topk_ids);
  put(*c.topk_values, in.topk_values);
  put(*c.prompt_logprob_offsets, shifted_tail(in.prompt_logprob_offsets, c.prompt_logprobs->size()));
  put(*c.prompt_logprobs, in.prompt_logprobs);
  put(*c.sum_logprob, in.sum_logprob);
  put(*c.is_greedy, in.is_greedy);
}

void SegmentFileWriter::finish(const std::map<std::string, std::string>& attributes,
                               std::optional<int64_t> num_records) {
  const hid_t f = file_.get();
  check_attribute_names(attributes);
  for (const auto& [name, value] : attributes) h5_write_attribute(f, name, value, path_);
  h5_write_attribute(f, kFormatAttribute, std::string(kFormatName), path_);
  h5_write_attribute(f, kFormatVersionAttribute, kFormatVersion, path_);
  h5_write_attribute(f, kNumRowsAttribute, rows(), path_);
  if (num_records) h5_write_attribute(f, kNumRecordsAttribute, *num_records, path_);
  columns_.reset();  // datasets close before the file
  h5_check(H5Fflush(f, H5F_SCOPE_GLOBAL), "flush", path_);
  file_.close(path_);
}

SegmentFileReader::SegmentFileReader(const std::string& path) : path_(path), file_(h5_file_open_read(path)) {
  const hid_t f = file_.get();
  attributes_ = h5_read_string_attributes(f, path);
  const auto format = attributes_.find(kFormatAttribute);
  if (format == attributes_.end() || format->second != kFormatName) {
    throw IoError("not an llmbatch results file (no '" + std::string(kFormatAttribute) + "' attribute)",
                  {.file = path}, "give a results.h5 written by `llmbatch merge` or a segment file");
  }
  const auto version = h5_read_int_attribute(f, kFormatVersionAttribute, path);
  if (version != kFormatVersion) {
    throw IoError("results format version " + (version ? std::to_string(*version) : std::string("(none)")) +
                      " is not the version this llmbatch reads (" + std::to_string(kFormatVersion) + ")",
                  {.file = path}, "use the llmbatch version that wrote the file");
  }
  for (auto it = attributes_.begin(); it != attributes_.end();) {
    it = is_reserved_attribute(it->first) ? attributes_.erase(it) : std::next(it);
  }
  num_records_ = h5_read_int_attribute(f, kNumRecordsAttribute, path);
  rows_ = column("records/index").size();
  has_tokens_ = h5_exists(f, "tokens");
  has_text_ = h5_exists(f, "text");
}

const H5ColumnReader& SegmentFileReader::column(const std::string& name) const {
  auto it = columns_.find(name);
  if (it == columns_.end()) it = columns_.emplace(name, H5ColumnReader(file_.get(), name, path_)).first;
  return it->second;
}

std::vector<int64_t> SegmentFileReader::read_index() const { return column("records/index").read<int64_t>(0, rows_); }

std::vector<int32_t> SegmentFileReader::read_sample() const { return column("records/sample").read<int32_t>(0, rows_); }

ResultColumns SegmentFileReader::read(int64_t begin, int64_t end) const {
  LLMBATCH_CHECK(0 <= begin && begin <= end && end <= rows_, "row range inside the file");
  const std::string& p = path_;
  const auto numbers = [&]<typename T>(std::vector<T>& out, const char* name, int64_t b, int64_t e) {
    out = column(name).template read<T>(b, e);
  };
  const auto strings = [&](std::vector<std::string>& out, const char* name) {
    out = column(name).read_strings(begin, end);
  };
  // A CSR pair for rows [b, e): returns the absolute range of its values.
  const auto csr = [&]<typename T>(std::vector<int64_t>& offsets, std::vector<T>& values, const char* offsets_name,
                                   const char* values_name, int64_t b, int64_t e) {
    OffsetSlice s = read_offsets(column(offsets_name), b, e, p, offsets_name);
    values = column(values_name).template read<T>(s.first, s.last);
    offsets = std::move(s.offsets);
    return std::pair(s.first, s.last);
  };
  ResultColumns c;
  c.has_tokens = has_tokens_;
  c.has_text = has_text_;
  numbers(c.index, "records/index", begin, end);
  numbers(c.sample, "records/sample", begin, end);
  strings(c.id, "records/id");
  strings(c.status, "records/status");
  strings(c.error, "records/error");
  strings(c.finish_reason, "records/finish_reason");
  numbers(c.num_prompt_tokens, "records/num_prompt_tokens", begin, end);
  numbers(c.num_output_tokens, "records/num_output_tokens", begin, end);
  if (has_tokens_) {
    csr(c.prompt_offsets, c.prompt_ids, "tokens/prompt_offsets", "tokens/prompt_ids", begin, end);
    csr(c.output_offsets, c.output_ids, "tokens/output_offsets", "tokens/output_ids", begin, end);
  }
  if (has_text_) strings(c.text, "text/output");
  const auto [first_token, last_token] =
      csr(c.logprob_offsets, c.token_logprob, "logprobs/offsets", "logprobs/token", begin, end);
  const auto [first_top, last_top] =
      csr(c.topk_offsets, c.topk_ids, "logprobs/topk_offsets", "logprobs/topk_ids", first_token, last_token);
  numbers(c.topk_values, "logprobs/topk_values", first_top, last_top);
  csr(c.prompt_logprob_offsets, c.prompt_logprobs, "scores/prompt_logprob_offsets", "scores/prompt_logprobs", begin,
      end);
  numbers(c.sum_logprob, "scores/sum_logprob", begin, end);
  numbers(c.is_greedy, "scores/is_greedy", begin, end);
  c.validate(p);
  return c;
}

}  // namespace llmbatch
