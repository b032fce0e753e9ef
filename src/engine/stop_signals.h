// Graceful stop for long jobs: SIGTERM (Slurm's warning before the kill),
// SIGINT (Ctrl-C) and SIGUSR1 (`scancel --signal=USR1`) ask the job runner
// to stop admitting work, commit what has finished and exit 0 as
// resumable. A second SIGINT exits at once with 130: the journal is still
// consistent, since every commit is atomic.
#pragma once

namespace llmbatch {

// Installs the handlers (idempotent) and clears any earlier request.
void install_stop_signals();
// Whether a stop signal arrived since install_stop_signals().
bool stop_requested();
// The signal that asked to stop (0 if none), for the log.
int stop_signal();

}  // namespace llmbatch
