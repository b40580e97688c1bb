"""The check list the Python oracle tests share: each check prints ok/FAIL with its name (and the detail on a
failure); finish() prints the closing 'N passed, N failed' line and exits non-zero on any failure."""
import sys


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

    def finish(self):
        print(f"{self.count - len(self.failures)} passed, {len(self.failures)} failed")
        sys.exit(1 if self.failures else 0)
