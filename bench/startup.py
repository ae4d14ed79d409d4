"""CPU time of starting the command line: `aftercare --help`, `aftercare unit list` and an idle `aftercare tick`, next
to `python -c "import sqlalchemy"` (the reference; target: each command ≤ 3 × the reference).

A cron `tick` every minute pays this start-up each time, so it is measured as the operator would pay it: a fresh child
process, user + system CPU (from `os.wait4`, so the machine's other load does not count), median of several runs. The
database is a fresh SQLite file in a temporary directory, migrated once before measuring; no channel token is set.

    .venv/bin/python -m bench.startup [--runs 7]
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

TARGET_FACTOR = 3.0
REFERENCE_LABEL = 'python -c "import sqlalchemy"'


def cpu_seconds(argv: list[str], env: dict[str, str]) -> float:
    """User + system CPU of one child process (and nothing else), in seconds; the child must succeed."""
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{stderr}")
    return usage.ru_utime + usage.ru_stime


def median_cpu(argv: list[str], env: dict[str, str], runs: int) -> float:
    return statistics.median(cpu_seconds(argv, env) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as scratch:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("AFTERCARE_") and key not in ("PYTHONPROFILEIMPORTTIME", "PYTHONDONTWRITEBYTECODE")
        }
        env |= {
            "AFTERCARE_DATABASE_URL": f"sqlite+aiosqlite:///{Path(scratch) / 'bench.db'}",
            "AFTERCARE_DATA_DIR": scratch,
            "AFTERCARE_ENCRYPTION_KEY": base64.urlsafe_b64encode(bytes(32)).decode(),
            "AFTERCARE_SIMULATOR_ENABLED": "false",
        }
        aftercare = [python, "-m", "bot"]
        cpu_seconds([*aftercare, "db", "upgrade"], env)  # migrations and .pyc files once, outside the figures
        reference = median_cpu([python, "-c", "import sqlalchemy"], env, args.runs)
        commands = {
            "aftercare --help": [*aftercare, "--help"],
            "aftercare unit list": [*aftercare, "unit", "list"],
            "aftercare tick (idle)": [*aftercare, "tick"],
        }
        print(f"CPU time (user+sys), median of {args.runs} runs; target ≤ {TARGET_FACTOR:g} × the reference")
        print(f"{REFERENCE_LABEL:<32}{reference:8.3f} s   (reference)")
        failed = False
        for label, argv in commands.items():
            seconds = median_cpu(argv, env, args.runs)
            ratio = seconds / reference
            ok = ratio <= TARGET_FACTOR
            failed |= not ok
            print(f"{label:<32}{seconds:8.3f} s   {ratio:5.1f} ×   {'ok' if ok else 'OVER TARGET'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
