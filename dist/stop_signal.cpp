#include "dist/stop_signal.h"

#include <csignal>

namespace drllm::dist {
namespace {

volatile std::sig_atomic_t requested_by = 0;

extern "C" void on_stop_signal(int signal) { requested_by = signal; }

}  // namespace

void install_stop_signals() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool stop_requested() { return requested_by != 0; }
int stop_signal() { return requested_by; }

}  // namespace drllm::dist
