#include "engine/stop_signals.h"

#include <unistd.h>

#include <atomic>
#include <csignal>

namespace llmbatch {
namespace {

std::atomic<int> g_signal{0};
std::atomic<int> g_interrupts{0};

extern "C" void on_stop_signal(int sig) {
  if (sig == SIGINT && g_interrupts.fetch_add(1) >= 1) {
    static const char kMessage[] = "\nllmbatch: second interrupt, exiting now (committed work is kept)\n";
    [[maybe_unused]] const auto n = write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
    _exit(130);
  }
  int expected = 0;
  g_signal.compare_exchange_strong(expected, sig);
}

}  // namespace

void install_stop_signals() {
  g_signal = 0;
  g_interrupts = 0;
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGTERM, SIGINT, SIGUSR1}) sigaction(sig, &action, nullptr);
}

bool stop_requested() { return g_signal.load() != 0; }

int stop_signal() { return g_signal.load(); }

}  // namespace llmbatch
