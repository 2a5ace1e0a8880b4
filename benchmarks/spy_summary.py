"""Where a py-spy recording's time goes: inclusive seconds per function, optionally under one.

    py-spy record --rate 50 --format raw -o demo.folded -- .venv/bin/python -m recoup.cli demo --days 10
    .venv/bin/python -m benchmarks.spy_summary demo.folded --rate 50 [--under Simulation.run] [--top 60]

`--format raw` writes one line per distinct stack (frames joined by `;`, then the sample count).
A function counts once per sample however deep it recurs; `--under NAME` keeps the samples whose
stack passes through the function NAME and shares are of those. Seconds are samples / rate: wall
time of the sampled threads while not idle, so on a loaded machine they include time waiting for
a core (compare shares, not seconds, between runs at different loads).
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path


def frame_name(frame: str) -> str:
    """`function (path/to/file.py:line)` as `function file.py`."""
    name, _, where = frame.partition(" (")
    return f"{name} {where.split(':')[0].rsplit('/', 1)[-1]}" if where else name


def summary(lines: list[str], under: str | None) -> tuple[int, Counter[str]]:
    total, inclusive = 0, Counter[str]()
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [frame_name(f) for f in stack.split(";")]
        if under is not None:
            names = [f.split(" ")[0] for f in frames]
            if under not in names:
                continue
            frames = frames[names.index(under) :]
        n = int(count)
        total += n
        for name in set(frames):
            inclusive[name] += n
    return total, inclusive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folded", type=Path)
    parser.add_argument("--rate", type=float, default=50.0, help="the recording's samples a second")
    parser.add_argument("--under", help="only the samples under this function")
    parser.add_argument("--top", type=int, default=60)
    args = parser.parse_args()
    lines = args.folded.read_text(encoding="utf-8").splitlines()
    total, inclusive = summary(lines, args.under)
    print(f"{total} samples, {total / args.rate:.1f} s")
    for name, n in inclusive.most_common(args.top):
        print(f"{n / max(total, 1):6.1%} {n / args.rate:8.1f} s  {name}")


if __name__ == "__main__":
    main()
