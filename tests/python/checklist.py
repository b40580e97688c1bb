"""The check list the Python oracle tests share: each check prints ok/FAIL with its name (and the detail on a
failure); finish() prints the closing 'N passed, N failed' line and exits non-zero on any failure.

run(behaviours) runs one function per behaviour, each on its own: an exception in one is reported as a failure of
that behaviour and the others still run. DRLLM_TEST_ONLY=name,name runs only those (the shared set-up they need
still runs, once); DRLLM_TEST_EXCEPT=name,name runs all but those.

skip_without(path, what) ends a test that cannot run here (the shared assets absent, say) with exit code 77,
which ctest reports as skipped (SKIP_RETURN_CODE), never as passed. Each behaviour's time is printed after it."""
import functools
import os
import sys
import time
import traceback


class Checklist:
    def __init__(self):
        self.failures = []
        self.count = 0

    def check(self, condition, what, detail=""):
        self.count += 1
        print(("ok   " if condition else "FAIL ") + what, flush=True)
        if not condition:
            self.failures.append(what)
            print(str(detail)[:3000])
        return condition

    def run(self, behaviours):
        only = [n for n in os.environ.get("DRLLM_TEST_ONLY", "").split(",") if n]
        excepted = [n for n in os.environ.get("DRLLM_TEST_EXCEPT", "").split(",") if n]
        unknown = set(only + excepted) - {b.__name__ for b in behaviours}
        if unknown:
            self.check(False, f"DRLLM_TEST_ONLY/EXCEPT name behaviours this test does not have: {sorted(unknown)}",
                       [b.__name__ for b in behaviours])
        for behaviour in behaviours:
            if (only and behaviour.__name__ not in only) or behaviour.__name__ in excepted:
                continue
            print(f"== {behaviour.__name__}: {(behaviour.__doc__ or '').strip()}", flush=True)
            start = time.monotonic()
            try:
                behaviour()
            except Exception:  # a broken behaviour fails alone
                self.check(False, f"{behaviour.__name__} ran to its end", traceback.format_exc())
            # What each behaviour costs (its share of the shared set-up included), for whoever trims the suite.
            print(f"   ({behaviour.__name__}: {time.monotonic() - start:.1f} s)", flush=True)

    def finish(self):
        print(f"{self.count - len(self.failures)} passed, {len(self.failures)} failed")
        sys.exit(1 if self.failures else 0)


SKIPPED = 77  # the SKIP_RETURN_CODE of every Python test in tests/CMakeLists.txt


def skip_without(path, what):
    """Ends the test as skipped when `path` is absent, naming what is missing and how to provide it."""
    if not os.path.exists(path):
        print(f"SKIPPED: {what} needs {path}, which is absent (the shared assets: set DRLLM_ASSETS and rerun "
              f"scripts/setup)", flush=True)
        sys.exit(SKIPPED)


def once(setup):
    """A shared set-up that behaviours call: computed the first time, reused after (a failure raises each time)."""
    return functools.lru_cache(maxsize=None)(setup)
