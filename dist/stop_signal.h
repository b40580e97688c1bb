// Preemption: SIGUSR1 (Slurm's --signal, forwarded by mpirun) and SIGTERM ask a job to stop cleanly: each rank
// finishes what it is doing, commits its output and exits 0. The handler only sets a flag; jobs poll it.
#pragma once

namespace drllm::dist {

void install_stop_signals();
bool stop_requested();
int stop_signal();  // the signal that asked, 0 when none

}  // namespace drllm::dist
