// PeerWatchdog: a parallel job whose rank is stopped (SIGSTOP, a frozen node), hung or gone must end, not wait
// forever in a collective or in the work queue. Every rank runs a thread that sends a heartbeat every few
// seconds and watches the heartbeats it should receive: rank 0 those of every other rank, the others rank 0's (a
// star, so a job of N ranks sends O(N) messages, not N^2). A rank that sent none for the timeout is named, with
// its host and pid, and the job is aborted (MPI_Abort), so that a rerun can resume it.
//
// Heartbeats say a rank is alive, not that it progresses: a long example or a slow step never trips the watchdog,
// only a process that no longer runs. The heartbeats travel on a communicator of their own (MPI_Comm_dup), so they
// never match another message. Started by the first Runtime of a parallel process, stopped just before
// MPI_Finalize; a rank that stops its watchdog says so, and its peers stop watching it.
#pragma once

namespace drllm::dist {

// --collective-timeout: seconds without a heartbeat before a peer is taken for hung (MPI), and the longest an
// NCCL collective may take. 0 turns the MPI watchdog off. Set before the first Runtime is made.
void set_collective_timeout(double seconds);
double collective_timeout();
inline constexpr double kDefaultCollectiveTimeout = 600;

// Both are called by Runtime (dist/runtime.cpp) with MPI initialised; the calls are collective only in the
// start (it duplicates MPI_COMM_WORLD and exchanges every rank's host and pid).
void start_peer_watchdog();
void stop_peer_watchdog();

}  // namespace drllm::dist
