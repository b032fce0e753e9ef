// One line of a jsonl, openai-batch or text input turned into an
// InputRecord. Never throws for bad content: a malformed line becomes a
// record whose `error` says what is wrong and where ("FILE:LINE: ..."),
// with every other field filled as far as the line allowed.
//
//   InputRecord parse_input_line(const InputLine&, const LineOrigin&, const InputOptions&);
//
// The field mapping of each format is in docs/inputs.md.
#pragma once

#include <cstdint>
#include <string>

#include "io/input_lines.h"
#include "io/input_options.h"
#include "io/record.h"

namespace llmbatch {

struct LineOrigin {
  const std::string& file;
  int64_t line = 0;   // 1-based line number in the (decompressed) file
  int64_t index = 0;  // the record's position in the job's whole input
};

// `options.format` must be a line format (not kHdf5Tokens).
InputRecord parse_input_line(const InputLine& line, const LineOrigin& origin, const InputOptions& options);

}  // namespace llmbatch
