"""Interrupting an mpirun job mid-way, for the kill -9 and SIGUSR1 tests. The moment is read from the job's own
progress lines, never from the clock: on a loaded machine a job can take several times as long as on an idle one,
and a signal sent after the job ended would prove nothing."""
import os
import signal
import subprocess
import time


def mpi_environment():
    """The environment an mpirun job of the tests runs in: as root in containers, 2 ranks even on a 1-core machine,
    no cross-memory attach (containers may forbid it)."""
    return dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
                OMPI_MCA_rmaps_base_oversubscribe="1", OMPI_MCA_btl_vader_single_copy_mechanism="none")


def start_until(cmd, env, reached):
    """Starts `cmd` and returns (process, stderr lines read so far) once reached(lines so far) is true, or at the
    end of its stderr. The caller reads the rest with communicate()."""
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
    seen = []
    for line in p.stderr:
        seen.append(line)
        if reached(seen):
            break
    return p, seen


def kill_one_rank(p, rng):
    """kill -9 of one of mpirun's children (a rank, chosen by rng), then waits for the job. True when a rank was
    killed and the job failed."""
    children = subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True, text=True).stdout.split()
    if children:
        os.kill(int(rng.choice(children)), signal.SIGKILL)
    p.communicate(timeout=300)
    return bool(children) and p.returncode != 0


def stop_one_rank(p, rng, seen, limit):
    """SIGSTOP of one of mpirun's children (chosen by rng): the rank neither dies nor answers. Returns (its pid,
    seconds until the job ended, the job's stderr, whether the stopped process is gone); a job still running after
    `limit` seconds is killed and reported as None for the seconds."""
    children = subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True, text=True).stdout.split()
    if not children:
        p.communicate(timeout=300)
        return None, None, "".join(seen), True
    pid = int(rng.choice(children))
    t0 = time.monotonic()
    os.kill(pid, signal.SIGSTOP)
    try:
        _, err = p.communicate(timeout=limit)
        ended = time.monotonic() - t0
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
        ended = None
    time.sleep(0.5)
    gone = not _alive(pid)
    if not gone:  # never leave a stopped rank behind, whatever the test finds
        os.kill(pid, signal.SIGKILL)
    return pid, ended, "".join(seen) + err, gone


def _alive(pid):
    """True while `pid` is a process that is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
