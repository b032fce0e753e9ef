// `llmbatch run` and `llmbatch validate`: a job from a YAML file and/or
// --set overrides. validate checks everything run would and prints the
// plan; run --print-config prints the effective configuration.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/command.h"
#include "core/units.h"
#include "engine/job_plan.h"
#include "engine/job_runner.h"
#include "io/job_config.h"

namespace llmbatch::cli {
namespace {

struct JobArgs {
  std::string job_file;
  std::vector<std::string> sets;
  bool restart = false;
  bool print_config = false;
};

JobConfig load(const JobArgs& a) {
  return load_job_config(a.job_file.empty() ? std::nullopt : std::optional<std::string>(a.job_file), a.sets);
}

void add_job_options(CLI::App* cmd, JobArgs& args) {
  cmd->add_option("job", args.job_file, "job file (YAML); optional when --set gives every required key");
  cmd->add_option("--set", args.sets, "override a key: --set sampling.temperature=0 (repeatable)");
}

int run(const JobArgs& a) {
  const JobConfig config = load(a);
  if (a.print_config) {
    std::fputs(job_config_to_yaml(config).c_str(), stdout);
    return 0;
  }
  const JobSummary s = run_job(config, {.restart = a.restart});
  const double rate = s.wall_seconds > 0 ? static_cast<double>(s.generated_tokens) / s.wall_seconds : 0.0;
  std::fprintf(stderr,
               "llmbatch: %s: %lld records ok, %lld errors%s; %lld prompt + %lld generated tokens in %.1f s "
               "(%.1f generated tok/s); %lld segment(s) committed in %s\n",
               s.stopped ? "stopped (resumable: rerun the same command)" : "done",
               static_cast<long long>(s.records_ok), static_cast<long long>(s.records_error),
               s.records_skipped > 0 ? (", " + std::to_string(s.records_skipped) + " from earlier runs").c_str() : "",
               static_cast<long long>(s.prompt_tokens), static_cast<long long>(s.generated_tokens), s.wall_seconds,
               rate, static_cast<long long>(s.segments), config.output.dir.c_str());
  return 0;
}

int validate(const JobArgs& a) {
  const JobPlan plan = plan_job(load(a));
  std::fputs(format_job_plan(plan).c_str(), stdout);
  if (plan.stored && !plan.changed.empty()) return 2;  // run would refuse without --restart
  std::puts("ok");
  return 0;
}

}  // namespace

void add_job_commands(CLI::App& app, CommandAction& action) {
  auto run_args = std::make_shared<JobArgs>();
  auto* run_cmd = app.add_subcommand("run", "run a job: llmbatch run JOB.yaml [--set key=value]...");
  add_job_options(run_cmd, *run_args);
  run_cmd->add_flag("--restart", run_args->restart, "discard results of a different job in output.dir");
  run_cmd->add_flag("--print-config", run_args->print_config, "print the effective configuration and exit");
  run_cmd->callback([run_args, &action] { action = [run_args] { return run(*run_args); }; });

  auto validate_args = std::make_shared<JobArgs>();
  auto* validate_cmd = app.add_subcommand("validate", "check a job (model, tokenizer, inputs, output) and print its plan");
  add_job_options(validate_cmd, *validate_args);
  validate_cmd->callback([validate_args, &action] { action = [validate_args] { return validate(*validate_args); }; });
}

}  // namespace llmbatch::cli
