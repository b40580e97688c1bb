#!/usr/bin/env bash
# The label search across MPI ranks on this machine (or the hosts of $HOSTFILE), one rank per socket or GPU.
#   launch/mpirun.sh                   2 ranks, 50 ARC-Challenge train questions, the embedded default model
#   launch/mpirun.sh RANKS [OPTIONS]   OPTIONS go to `drllm search` (--data, --model, --out, --limit, ...)
# Rerunning the same command resumes; SIGUSR1 or SIGTERM to mpirun stops every rank cleanly (exit 0).
set -euo pipefail
cd "$(dirname "$0")/.."
ranks=${1:-2}
[ $# -gt 0 ] && shift
args=("$@")
if [ ${#args[@]} -eq 0 ]; then
  args=(--data ../shared/assets/data/arc_challenge_train.jsonl --limit 50 --out runs/labels)
fi
[ -x build/cli/drllm ] || scripts/setup
# mpirun refuses root unless told; containers often run as root.
[ "$(id -u)" -eq 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
hosts=()
[ -n "${HOSTFILE:-}" ] && hosts=(--hostfile "$HOSTFILE")
# --bind-to none: each rank sets its own thread count (cores on the node / ranks on the node).
exec mpirun -np "$ranks" "${hosts[@]}" --bind-to none --oversubscribe build/cli/drllm search "${args[@]}"
