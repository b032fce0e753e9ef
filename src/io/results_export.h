// `llmbatch export`: a results file (results.h5, or one segment) as JSON
// lines, read in batches of rows so memory does not grow with the file.
//
//   jsonl         one line per row: {index, id, sample, status, error,
//                 finish_reason, num_prompt_tokens, num_output_tokens, text?,
//                 output_ids?, logprobs?, prompt_logprobs?, sum_logprob?, is_greedy?}
//   openai-batch  one line per record in the OpenAI Batch API output format,
//                 samples as choices (docs/output-format.md has the details)
//
// "?" fields: text and output_ids when the file stores them, logprobs when
// the row has them, the score fields for rows of score mode (status ok and
// no finish reason). error and finish_reason are null when empty.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

namespace llmbatch {

enum class ExportFormat { kJsonl, kOpenAiBatch };

// "jsonl" or "openai-batch"; ConfigError (key --format) otherwise.
ExportFormat parse_export_format(const std::string& name);

// Writes at most `limit` lines (rows for jsonl, records for openai-batch)
// to `out`; returns how many. Throws IoError for a file that is not an
// llmbatch results file or is corrupt.
int64_t export_results(const std::string& results_path, ExportFormat format, std::ostream& out,
                       std::optional<int64_t> limit = std::nullopt);

}  // namespace llmbatch
