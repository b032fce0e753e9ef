#include "io/job_config_fields.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "core/units.h"
#include "io/job_config_yaml.h"
#include "io/key_suggestion.h"

namespace llmbatch {
namespace {

// Each codec turns a non-null YAML node into a field value or says what it
// expected: try_parse returns nullopt for a value of the wrong form, and
// parse_value turns that into "expected <expected()>, got <value>".

template <typename Codec>
auto parse_value(const Codec& codec, const YAML::Node& node) {
  auto value = codec.try_parse(node);
  if (!value) {
    std::string hint;
    if constexpr (requires { codec.hint(node); }) hint = codec.hint(node);
    std::string got = "got " + describe_node(node);
    if constexpr (requires { codec.got(node); }) got = codec.got(node);
    throw ConfigError("expected " + codec.expected() + ", " + got, {}, hint);
  }
  return *std::move(value);
}

std::optional<int64_t> parse_int(const YAML::Node& node) {
  if (!node.IsScalar()) return std::nullopt;
  const std::string& text = node.Scalar();
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

struct StringCodec {
  std::string expected() const { return "a string"; }
  std::optional<std::string> try_parse(const YAML::Node& node) const {
    if (!node.IsScalar()) return std::nullopt;
    return node.Scalar();
  }
  void emit(YAML::Emitter& out, const std::string& value) const { emit_string(out, value); }
};

// A list of non-empty strings; a single string is a list of one.
struct StringListCodec {
  std::string expected() const { return "a list of non-empty strings"; }
  std::optional<std::vector<std::string>> try_parse(const YAML::Node& node) const {
    if (node.IsScalar()) {
      if (node.Scalar().empty()) return std::nullopt;
      return std::vector<std::string>{node.Scalar()};
    }
    if (!node.IsSequence()) return std::nullopt;
    std::vector<std::string> values;
    for (const auto& item : node) {
      if (!item.IsScalar() || item.Scalar().empty()) return std::nullopt;
      values.push_back(item.Scalar());
    }
    return values;
  }
  // Which item is wrong, when the list as a whole is one.
  std::string got(const YAML::Node& node) const {
    if (!node.IsSequence()) return "got " + describe_node(node);
    for (size_t i = 0; i < node.size(); ++i) {
      if (!node[i].IsScalar() || node[i].Scalar().empty()) {
        return "but item " + std::to_string(i + 1) + " is " +
               (node[i].IsScalar() ? "''" : describe_node(node[i]));
      }
    }
    return "got " + describe_node(node);
  }
  void emit(YAML::Emitter& out, const std::vector<std::string>& values) const {
    out << YAML::BeginSeq;
    for (const auto& value : values) emit_string(out, value);
    out << YAML::EndSeq;
  }
};

struct IntCodec {
  int64_t min = 0;
  int64_t max = std::numeric_limits<int64_t>::max();
  std::string expected() const {
    if (max == std::numeric_limits<int64_t>::max()) return "an integer >= " + std::to_string(min);
    return "an integer between " + std::to_string(min) + " and " + std::to_string(max);
  }
  std::optional<int64_t> try_parse(const YAML::Node& node) const {
    const auto value = parse_int(node);
    if (!value || *value < min || *value > max) return std::nullopt;
    return value;
  }
  void emit(YAML::Emitter& out, int64_t value) const { out << std::to_string(value); }
};

struct PowerOfTwoCodec {
  int64_t max = 0;
  std::string expected() const {
    return "a power of two between 1 and " + std::to_string(max);
  }
  std::optional<int64_t> try_parse(const YAML::Node& node) const {
    const auto value = parse_int(node);
    if (!value || *value < 1 || *value > max || !std::has_single_bit(static_cast<uint64_t>(*value))) {
      return std::nullopt;
    }
    return value;
  }
  void emit(YAML::Emitter& out, int64_t value) const { out << std::to_string(value); }
};

struct BoolCodec {
  std::string expected() const { return "true or false"; }
  std::optional<bool> try_parse(const YAML::Node& node) const {
    if (!node.IsScalar() || plain_scalar_type(node.Scalar()) != ScalarType::kBool) {
      return std::nullopt;
    }
    return node.Scalar()[0] == 't' || node.Scalar()[0] == 'T';
  }
  std::string hint(const YAML::Node&) const {
    return "YAML 1.1 spellings (yes, no, on, off) are not booleans here";
  }
  void emit(YAML::Emitter& out, bool value) const { out << (value ? "true" : "false"); }
};

// A period in seconds: a finite number > 0.
struct SecondsCodec {
  std::string expected() const { return "a number of seconds > 0"; }
  std::optional<double> try_parse(const YAML::Node& node) const {
    if (!node.IsScalar()) return std::nullopt;
    const std::string& text = node.Scalar();
    double value = 0.0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    if (!std::isfinite(value) || value <= 0.0) return std::nullopt;
    return value;
  }
  void emit(YAML::Emitter& out, double value) const { out << format_double(value); }
};

// A positive byte count: 4GiB, 512MB, 1000 (core/units.h).
struct ByteSizeCodec {
  std::string expected() const { return "a byte size such as 4GiB, 512MiB, 2GB or 1000000"; }
  std::optional<uint64_t> try_parse(const YAML::Node& node) const {
    if (!node.IsScalar()) return std::nullopt;
    try {
      const uint64_t bytes = parse_byte_size(node.Scalar(), "");
      if (bytes == 0) return std::nullopt;
      return bytes;
    } catch (const ConfigError&) {
      return std::nullopt;
    }
  }
  // The largest binary unit that divides exactly, so 4GiB stays 4GiB.
  void emit(YAML::Emitter& out, uint64_t bytes) const {
    static constexpr std::pair<int, const char*> kUnits[] = {
        {40, "TiB"}, {30, "GiB"}, {20, "MiB"}, {10, "KiB"}};
    for (const auto& [shift, name] : kUnits) {
      if (bytes % (uint64_t{1} << shift) == 0) {
        out << std::to_string(bytes >> shift) + name;
        return;
      }
    }
    out << std::to_string(bytes);
  }
};

// `auto` (nullopt) or a value of the inner codec.
template <typename Inner>
struct AutoCodec {
  using Value = typename decltype(std::declval<const Inner&>().try_parse(
      std::declval<const YAML::Node&>()))::value_type;
  Inner inner;
  std::string expected() const { return "auto or " + inner.expected(); }
  std::optional<std::optional<Value>> try_parse(const YAML::Node& node) const {
    std::optional<std::optional<Value>> result;
    if (node.IsScalar() && node.Scalar() == "auto") {
      result.emplace(std::nullopt);
    } else if (auto value = inner.try_parse(node)) {
      result.emplace(*std::move(value));
    }
    return result;
  }
  std::string hint(const YAML::Node& node) const {
    if constexpr (requires { inner.hint(node); }) return inner.hint(node);
    return {};
  }
  void emit(YAML::Emitter& out, const std::optional<Value>& value) const {
    if (value) {
      inner.emit(out, *value);
    } else {
      out << "auto";
    }
  }
};

// One of a fixed set of names.
template <typename T>
struct EnumCodec {
  std::vector<std::pair<T, std::string>> names;
  std::string expected() const {
    std::string list;
    for (const auto& [value, name] : names) list += (list.empty() ? "" : ", ") + name;
    return "one of " + list;
  }
  std::optional<T> try_parse(const YAML::Node& node) const {
    if (!node.IsScalar()) return std::nullopt;
    for (const auto& [value, name] : names) {
      if (name == node.Scalar()) return value;
    }
    return std::nullopt;
  }
  std::string hint(const YAML::Node& node) const {
    if (!node.IsScalar()) return {};
    std::vector<std::string> candidates;
    for (const auto& entry : names) candidates.push_back(entry.second);
    const auto match = closest_match(node.Scalar(), candidates);
    return match ? "did you mean " + *match + "?" : std::string();
  }
  void emit(YAML::Emitter& out, const T& value) const {
    for (const auto& [v, name] : names) {
      if (v == value) {
        out << name;
        return;
      }
    }
    throw InternalError("job config enum value without a name");
  }
};

const JobConfig& default_config() {
  static const JobConfig config;
  return config;
}

// `access` is a generic lambda returning a reference to the field, so the
// same one serves a JobConfig and a const JobConfig.
template <typename Access, typename Codec>
JobField make_field(std::string path, Access access, Codec codec) {
  return JobField{
      .path = std::move(path),
      .set = [access, codec](JobConfig& c, const YAML::Node& node) {
        access(c) = parse_value(codec, node);
      },
      .emit = [access, codec](YAML::Emitter& out, const JobConfig& c) {
        codec.emit(out, access(c));
      },
      .reset = [access](JobConfig& c) { access(c) = access(default_config()); },
  };
}

// The key path is spelt from the member names, so the two cannot drift.
#define LLMBATCH_JOB_FIELD(section, name, codec) \
  make_field(#section "." #name, [](auto& c) -> auto& { return c.section.name; }, codec)

constexpr int64_t kMaxBlockSize = int64_t{1} << 16;  // as kv_check_block_size

std::vector<JobField> build_fields() {
  const EnumCodec<DType> dtypes{{{DType::BF16, "bf16"}, {DType::F32, "f32"}}};
  EnumCodec<InputFormat> formats;
  for (InputFormat f : {InputFormat::kJsonl, InputFormat::kOpenAiBatch, InputFormat::kText,
                        InputFormat::kHdf5Tokens}) {
    formats.names.emplace_back(f, input_format_name(f));
  }
  const EnumCodec<TruncateSide> sides{
      {{TruncateSide::kNone, "none"}, {TruncateSide::kLeft, "left"}, {TruncateSide::kRight, "right"}}};
  const EnumCodec<JobMode> modes{{{JobMode::kGenerate, "generate"}, {JobMode::kScore, "score"}}};
  const EnumCodec<BackendKind> backends{
      {{BackendKind::kAuto, "auto"}, {BackendKind::kCpu, "cpu"}, {BackendKind::kCuda, "cuda"}}};
  const EnumCodec<SchedulerKind> schedulers{
      {{SchedulerKind::kContinuous, "continuous"}, {SchedulerKind::kStatic, "static"}}};
  const IntCodec non_negative{.min = 0};
  const IntCodec positive{.min = 1};
  return {
      LLMBATCH_JOB_FIELD(model, path, StringCodec{}),
      LLMBATCH_JOB_FIELD(model, tokenizer, StringCodec{}),
      LLMBATCH_JOB_FIELD(model, chat_template, StringCodec{}),
      LLMBATCH_JOB_FIELD(model, dtype, AutoCodec<EnumCodec<DType>>{dtypes}),
      LLMBATCH_JOB_FIELD(model, max_model_len, non_negative),

      LLMBATCH_JOB_FIELD(input, paths, StringListCodec{}),
      LLMBATCH_JOB_FIELD(input, format, formats),
      LLMBATCH_JOB_FIELD(input, field, StringCodec{}),
      LLMBATCH_JOB_FIELD(input, truncate, sides),
      LLMBATCH_JOB_FIELD(input, records_per_unit, positive),
      LLMBATCH_JOB_FIELD(input, max_record_bytes, ByteSizeCodec{}),

      make_field("mode", [](auto& c) -> auto& { return c.mode; }, modes),

      LLMBATCH_JOB_FIELD(output, dir, StringCodec{}),
      LLMBATCH_JOB_FIELD(output, checkpoint_interval_s, SecondsCodec{}),
      LLMBATCH_JOB_FIELD(output, checkpoint_records, non_negative),
      LLMBATCH_JOB_FIELD(output, text, BoolCodec{}),
      LLMBATCH_JOB_FIELD(output, token_ids, BoolCodec{}),
      LLMBATCH_JOB_FIELD(output, progress_interval_s, SecondsCodec{}),

      LLMBATCH_JOB_FIELD(engine, backend, backends),
      LLMBATCH_JOB_FIELD(engine, kv_cache_memory, AutoCodec<ByteSizeCodec>{}),
      LLMBATCH_JOB_FIELD(engine, kv_dtype, dtypes),
      LLMBATCH_JOB_FIELD(engine, block_size, PowerOfTwoCodec{.max = kMaxBlockSize}),
      LLMBATCH_JOB_FIELD(engine, max_num_seqs, positive),
      LLMBATCH_JOB_FIELD(engine, max_num_batched_tokens, positive),
      LLMBATCH_JOB_FIELD(engine, prefix_caching, BoolCodec{}),
      LLMBATCH_JOB_FIELD(engine, threads, AutoCodec<IntCodec>{positive}),
      LLMBATCH_JOB_FIELD(engine, scheduler, schedulers),

      LLMBATCH_JOB_FIELD(parallel, zero_group_size, positive),
      LLMBATCH_JOB_FIELD(parallel, resident_layers, AutoCodec<IntCodec>{non_negative}),
  };
}

#undef LLMBATCH_JOB_FIELD

}  // namespace

std::span<const JobField> job_fields() {
  static const std::vector<JobField> fields = build_fields();
  return fields;
}

const JobField* find_job_field(std::string_view path) {
  for (const JobField& field : job_fields()) {
    if (field.path == path) return &field;
  }
  return nullptr;
}

std::span<const std::string> job_top_level_keys() {
  static const std::vector<std::string> keys = {"model",  "input",  "mode",    "sampling",
                                                "output", "engine", "parallel"};
  return keys;
}

}  // namespace llmbatch
