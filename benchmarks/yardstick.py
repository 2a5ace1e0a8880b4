"""The machine's load at the time of a benchmark, printed beside its figures: the load average and
the seconds a fixed piece of pure-Python work takes now, at the benchmark's own priority (run it
under the same `nice`). Figures taken at different yardsticks are not comparable; twice the
yardstick means about half the CPU share."""

from __future__ import annotations

import os
import time


def yardstick() -> str:
    began = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i & 7
    seconds = time.perf_counter() - began
    one, five, _ = os.getloadavg()
    return f"yardstick {seconds:.2f} s (fixed Python work), load average {one:.1f} / {five:.1f}"


if __name__ == "__main__":
    print(yardstick())
