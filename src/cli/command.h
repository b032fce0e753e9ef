// How subcommands plug into the `llmbatch` executable: each group of
// commands lives in its own file and registers itself on the CLI11 app. A
// subcommand's callback stores what to run in `CommandAction`; main() runs it
// after parsing and turns llmbatch::Error into a message and exit code 2.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace llmbatch::cli {

using CommandAction = std::function<int()>;

// model random, inspect
void add_model_commands(CLI::App& app, CommandAction& action);

// logprobs
void add_logprobs_command(CLI::App& app, CommandAction& action);

// bench
void add_bench_command(CLI::App& app, CommandAction& action);
// chat-template
void add_chat_template_commands(CLI::App& app, CommandAction& action);

// tokenize, detokenize
void add_tokenizer_commands(CLI::App& app, CommandAction& action);

// run, validate
void add_job_commands(CLI::App& app, CommandAction& action);

// merge, export, status
void add_results_commands(CLI::App& app, CommandAction& action);

}  // namespace llmbatch::cli
