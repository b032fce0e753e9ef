// The llmbatch executable: parses the command line, runs one subcommand.
// Exit codes: 0 success, 1 usage error, 2 a user-facing error (bad config,
// model, input), 70 an internal error (a bug: please report it).
#include <cstdio>
#include <optional>
#include <string>

#include "cli/command.h"
#include "core/error.h"
#include "core/log.h"

int main(int argc, char** argv) {
  CLI::App app{"llmbatch: batch inference jobs for Llama-family models"};
  app.require_subcommand(1);
  std::optional<std::string> log_level;
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|critical|off");

  llmbatch::cli::CommandAction action;
  llmbatch::cli::add_model_commands(app, action);
  llmbatch::cli::add_logprobs_command(app, action);
  llmbatch::cli::add_bench_command(app, action);
  llmbatch::cli::add_tokenizer_commands(app, action);
  llmbatch::cli::add_chat_template_commands(app, action);
  llmbatch::cli::add_job_commands(app, action);
  llmbatch::cli::add_results_commands(app, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    llmbatch::log_init(log_level);
    return action ? action() : 0;
  } catch (const llmbatch::InternalError& e) {
    std::fprintf(stderr, "llmbatch: %s\n", e.what());
    return 70;
  } catch (const llmbatch::Error& e) {
    std::fprintf(stderr, "llmbatch: %s\n", e.what());
    return 2;
  }
}
