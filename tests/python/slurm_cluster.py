"""A throwaway Slurm cluster of one node for the tests: munged with a key made for the test, one slurmctld and one
slurmd with 2 CPUs, all under a folder of the test's own (its slurm.conf, state, spool, logs, sockets) and on free
ports, so that nothing of the machine's own Slurm or munge, if any, is touched. stop() ends every daemon and job
it started; nothing is left running."""
import os
import signal
import socket
import subprocess
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SlurmCluster:
    def __init__(self, folder):
        self.folder = os.path.abspath(folder)
        for sub in ("state", "spool"):
            os.makedirs(os.path.join(self.folder, sub), exist_ok=True)
        self.conf = self.path("slurm.conf")
        self.env = dict(os.environ, SLURM_CONF=self.conf)
        self.started = []  # pids of the daemons started, read from their pid files once they are up

    def stop_leftovers(self):
        """Stops the daemons a previous run in the same folder left running (a test killed by its time limit)."""
        for name in ("munged.pid", "slurmctld.pid", "slurmd.pid"):
            pid = self.read_pid(name)
            try:  # only a daemon of this folder's cluster, never a process that reused its pid
                ours = self.folder.encode() in open(f"/proc/{pid}/cmdline", "rb").read()
            except (OSError, TypeError):
                ours = False
            if ours:
                self.started.append(pid)
        self.stop()

    def read_pid(self, name):
        try:
            return int(open(self.path(name)).read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def path(self, name):
        return os.path.join(self.folder, name)

    def start(self):
        key = self.path("munge.key")
        with open(key, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o400)
        sock = self.path("munge.sock")
        self.daemon(["munged", "--force", f"--socket={sock}", f"--key-file={key}",
                     f"--log-file={self.path('munged.log')}", f"--pid-file={self.path('munged.pid')}",
                     f"--seed-file={self.path('munged.seed')}"], "munged.pid")
        host = socket.gethostname().split(".")[0]
        ctld_port, d_port = free_port(), free_port()
        with open(self.conf, "w") as f:
            f.write(f"""ClusterName=drllmtest
SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={sock}
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
StateSaveLocation={self.path('state')}
SlurmdSpoolDir={self.path('spool')}
SlurmctldPidFile={self.path('slurmctld.pid')}
SlurmdPidFile={self.path('slurmd.pid')}
SlurmctldLogFile={self.path('slurmctld.log')}
SlurmdLogFile={self.path('slurmd.log')}
ProctrackType=proctrack/pgid
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=pmix
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
JobRequeue=1
KillWait=30
NodeName={host} NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=test Nodes={host} Default=YES MaxTime=INFINITE State=UP
""")
        self.daemon(["slurmctld", "-i", "-f", self.conf], "slurmctld.pid")
        self.daemon(["slurmd", "-f", self.conf], "slurmd.pid")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            state = self.run(["sinfo", "-h", "-o", "%T"]).stdout.strip()
            if state == "idle":
                return
            time.sleep(0.5)
        raise RuntimeError(f"the test cluster's node never became idle (sinfo: {state!r}); see {self.folder}/*.log")

    def daemon(self, cmd, pid_file):
        r = subprocess.run(cmd, capture_output=True, text=True, env=self.env, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"{cmd[0]} did not start: {r.stderr.strip()}")
        for _ in range(100):  # the daemon writes its pid file once it has forked
            pid = self.read_pid(pid_file)
            if pid:
                self.started.append(pid)
                return
            time.sleep(0.1)
        raise RuntimeError(f"{cmd[0]} wrote no pid file {self.path(pid_file)}")

    def run(self, cmd, **kw):
        return subprocess.run(cmd, capture_output=True, text=True, env=self.env, timeout=120, **kw)

    def submit(self, args, cwd, env=None):
        """sbatch ARGS in cwd: the job id."""
        r = subprocess.run(["sbatch", "--parsable", *args], capture_output=True, text=True, cwd=cwd,
                           env=dict(env or os.environ, SLURM_CONF=self.conf), timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"sbatch failed: {r.stderr.strip()}")
        return r.stdout.strip().split(";")[0]

    def job(self, job_id):
        """scontrol's fields of a job, as a dict (JobState, Restarts, ...)."""
        out = self.run(["scontrol", "show", "job", "-o", job_id]).stdout
        return dict(f.split("=", 1) for f in out.split() if "=" in f)

    def wait_for(self, job_id, predicate, limit):
        """Polls the job until predicate(fields) holds: the fields, or None after `limit` seconds."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            fields = self.job(job_id)
            if predicate(fields):
                return fields
            time.sleep(1)
        return None

    def stop(self):
        if os.path.exists(self.conf):
            self.run(["scancel", "--full", "--user", "root"])
            time.sleep(1)
        for pid in reversed(self.started):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                os.kill(pid, signal.SIGKILL)
        self.started = []
