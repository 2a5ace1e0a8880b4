"""`recoup demo` as a newcomer runs it: a fresh folder, the installed command, wall time.

    .venv/bin/python -m benchmarks.bench_demo [--runs 3]

Each run is the whole command (start-up, a 20,000-account portfolio generated and imported, 60
simulated days with the China policy's champion and challenger, the contact audit, the KPIs and
report.html). Prints each run's wall time and the phases the simulator reports, then the median.
The issue's target is under 2 minutes on the 2-core machine (docs/benchmarks.md has the figures).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RECOUP = Path(sys.executable).with_name("recoup")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    env = {**os.environ, "COLUMNS": "200"}
    for name in ("RECOUP_DATABASE_URL", "RECOUP_ENCRYPTION_KEY_FILE", "RECOUP_LOG_FILE"):
        env.pop(name, None)
    times = []
    for n in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory() as folder:
            began = time.perf_counter()
            done = subprocess.run(
                [str(RECOUP), "demo"], cwd=folder, env=env, capture_output=True, text=True
            )
            seconds = time.perf_counter() - began
            if done.returncode != 0:
                sys.exit(f"run {n} failed:\n{done.stderr[-3000:]}")
            if not (Path(folder) / "report.html").exists():
                sys.exit(f"run {n} wrote no report.html")
        times.append(seconds)
        phases = re.search(r"60 days in .*?\)", " ".join(done.stdout.split()))
        print(f"run {n}: {seconds:.1f} s  ({phases.group(0) if phases else 'no phases printed'})")
    print(f"median of {len(times)}: {statistics.median(times):.1f} s; best {min(times):.1f} s")


if __name__ == "__main__":
    main()
