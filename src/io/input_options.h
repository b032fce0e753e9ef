// What the `input` section of a job says, in the form the readers use:
//
//   enum class InputFormat { kJsonl, kOpenAiBatch, kText, kHdf5Tokens };
//   enum class InputMode { kGenerate, kScore };
//   struct InputOptions { paths, format, mode, field, records_per_unit, max_record_bytes };
//   InputFormat parse_input_format(std::string_view);      // ConfigError key "input.format"
//   std::vector<std::string> expand_input_paths(patterns);  // ConfigError key "input.paths"
//
// docs/inputs.md describes every format and how each field maps to InputRecord.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace llmbatch {

enum class InputFormat {
  kJsonl,        // one JSON object a line: `prompt` (input.field) or `messages`
  kOpenAiBatch,  // OpenAI batch API lines: custom_id, body.{messages|prompt, sampling keys}
  kText,         // one prompt a line
  kHdf5Tokens,   // CSR token ids: /prompt_offsets [N+1], /prompt_ids, optional /ids
};

enum class InputMode { kGenerate, kScore };

// A line longer than this (without its newline) is an error row; the reader
// skips it without buffering it. Holds a long-context prompt with room to
// spare (a 128k-token prompt is ~0.5 MiB of text).
inline constexpr uint64_t kDefaultMaxRecordBytes = 16ull << 20;
// Records per work unit: small enough that ranks balance, large enough that
// claiming a unit (one MPI fetch-and-add) costs nothing next to running it.
inline constexpr int64_t kDefaultRecordsPerUnit = 64;

struct InputOptions {
  std::vector<std::string> paths;  // files and globs (input.paths), or files already expanded
  InputFormat format = InputFormat::kJsonl;
  InputMode mode = InputMode::kGenerate;
  std::string field = "prompt";  // jsonl: the key holding the prompt (score mode: or `text`)
  int64_t records_per_unit = kDefaultRecordsPerUnit;
  uint64_t max_record_bytes = kDefaultMaxRecordBytes;
};

// "jsonl", "openai-batch", "text", "hdf5-tokens"; anything else is a
// ConfigError on key input.format that lists the valid names.
InputFormat parse_input_format(std::string_view name);
std::string_view input_format_name(InputFormat format);

// Expands files and globs (glob(3): *, ?, [...]) into existing regular files:
// patterns in the order given, the matches of each pattern sorted, a path
// seen before dropped. A pattern that matches nothing, or matches a
// directory, is a ConfigError on key input.paths naming the pattern. A
// pattern that matches nothing but is the name of a file is that file.
std::vector<std::string> expand_input_paths(std::span<const std::string> patterns);

}  // namespace llmbatch
