"""`recoup demo` as a newcomer runs it: a fresh folder, the installed command, wall time.

    .venv/bin/python -m benchmarks.bench_demo [--runs 3] [--keep DIR]

Each run is the whole command (start-up, a 20,000-account portfolio generated and imported, 60
simulated days with the China policy's champion and challenger, the contact audit, the KPIs,
report.html, the risk models trained and today's run). Prints each run's wall time, the CPU time
of the command's process (user + system: on a shared machine the wall time says as much about
the neighbours as about the demo), the load average before and after, and the phases the
simulator reports (wall), then the medians. Where the wall time goes beside the CPU (Linux): the
command's main thread as the kernel accounts it (`/proc/PID/schedstat`, read every 0.2 s): on a
core, runnable but waiting for a core (other processes, or the command's own threads), and the
rest, waiting on something (a disk's sync, a lock, another thread's work); and the machine's
busy core-seconds the command did not use (`/proc/stat`: what the other processes took). `--keep DIR` keeps each run's folder as DIR/run-N
(its recoup.db for `benchmarks.demo_digest`, which compares two runs' outcomes).
The issue's target is 60 s on the 2-core machine (docs/benchmarks.md has the figures).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

RECOUP = Path(sys.executable).with_name("recoup")


@dataclass
class MainThread:
    """A process's main thread as the kernel accounts it: seconds on a core and seconds runnable
    in the run queue (`/proc/PID/schedstat`, Linux; zeros elsewhere), the last reading before
    it exited."""

    on_core: float = 0.0
    runnable: float = 0.0

    def watch(self, pid: int, done: threading.Event) -> None:
        path = Path(f"/proc/{pid}/schedstat")
        while not done.is_set():
            try:
                on_core, runnable, _ = map(int, path.read_text().split())
            except (OSError, ValueError):
                return
            self.on_core, self.runnable = on_core / 1e9, runnable / 1e9
            done.wait(0.2)


def machine_busy() -> float:
    """Core-seconds the machine's cores have been busy since boot (`/proc/stat`; 0 elsewhere)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def run_demo(
    folder: str, env: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], MainThread]:
    """The command, its main thread watched while it runs."""
    proc = subprocess.Popen(
        [str(RECOUP), "demo"],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    main_thread, done = MainThread(), threading.Event()
    watcher = threading.Thread(target=main_thread.watch, args=(proc.pid, done), daemon=True)
    watcher.start()
    stdout, stderr = proc.communicate()
    done.set()
    watcher.join()
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr), main_thread


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="keep each run's folder here (run-N)")
    args = parser.parse_args()
    env = {**os.environ, "COLUMNS": "200"}
    for name in ("RECOUP_DATABASE_URL", "RECOUP_ENCRYPTION_KEY_FILE", "RECOUP_LOG_FILE"):
        env.pop(name, None)
    times, cpus = [], []
    for n in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory() as folder:
            load_before = os.getloadavg()
            used = resource.getrusage(resource.RUSAGE_CHILDREN)
            busy = machine_busy()
            began = time.perf_counter()
            done, main_thread = run_demo(folder, env)
            seconds = time.perf_counter() - began
            busy = machine_busy() - busy
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - used.ru_utime) + (after.ru_stime - used.ru_stime)
            load_after = os.getloadavg()
            if done.returncode != 0:
                sys.exit(f"run {n} failed:\n{done.stderr[-3000:]}")
            if not (Path(folder) / "report.html").exists():
                sys.exit(f"run {n} wrote no report.html")
            if args.keep is not None:
                shutil.copytree(folder, args.keep / f"run-{n}", dirs_exist_ok=True)
                (args.keep / f"run-{n}" / "stdout.txt").write_text(done.stdout, encoding="utf-8")
        times.append(seconds)
        cpus.append(cpu)
        phases = re.search(r"\d+ days in .*?\)", " ".join(done.stdout.split()))
        print(
            f"run {n}: {seconds:.1f} s wall, {cpu:.1f} s CPU; load average "
            f"{load_before[0]:.2f} before, {load_after[0]:.2f} after "
            f"({phases.group(0) if phases else 'no phases printed'})",
            flush=True,
        )
        waiting = seconds - main_thread.on_core - main_thread.runnable
        print(
            f"  main thread: {main_thread.on_core:.1f} s on a core, {main_thread.runnable:.1f} s "
            f"waiting for a core, {waiting:.1f} s waiting on something else; the machine's "
            f"{os.cpu_count()} cores: {busy:.0f} core-s busy, {busy - cpu:.0f} of them not this "
            f"command's (of {seconds * (os.cpu_count() or 1):.0f})",
            flush=True,
        )
    print(
        f"median of {len(times)}: {statistics.median(times):.1f} s wall "
        f"(best {min(times):.1f} s), {statistics.median(cpus):.1f} s CPU (best {min(cpus):.1f} s)"
    )


if __name__ == "__main__":
    main()
