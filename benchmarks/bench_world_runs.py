"""Single (world, policy) runs of the learning-worlds benchmark, one after another, each written
as a JSON line as soon as it ends (with its UTC start and end and the machine's load averages), so
a long series on a shared machine leaves its figures even if it is stopped halfway.

    PYTHONPATH=src:. .venv/bin/python -m benchmarks.bench_world_runs --accounts 2000 --days 60 \\
        --seed 7 --out runs.jsonl \\
        worlds/evening-answer.yaml=src/recoup/strategy/policies/cn-wallet.yaml \\
        worlds/evening-answer.yaml=worlds/policies/oracle-evening.yaml

Each run is `benchmarks.bench_learning_worlds.run` (a fresh SQLite database, `recoup simulate`'s
engine). docs/models.md has the figures."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from pathlib import Path

from benchmarks.bench_learning_worlds import run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("pairs", nargs="+", help="WORLD=POLICY, run in order")
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    for pair in args.pairs:
        world, policy = pair.split("=", 1)
        began, load_before = dt.datetime.now(dt.UTC), os.getloadavg()
        cpu_before, wall_before = time.process_time(), time.perf_counter()
        figures = run(
            Path(world), Path(policy), accounts=args.accounts, days=args.days, seed=args.seed
        )
        row = {
            "world": world,
            "policy": policy,
            "seed": args.seed,
            "accounts": args.accounts,
            "days": args.days,
            "began": began.strftime("%H:%M"),
            "ended": dt.datetime.now(dt.UTC).strftime("%H:%M"),
            "load": [round(load_before[0], 1), round(os.getloadavg()[0], 1)],
            "cpu_seconds": round(time.process_time() - cpu_before, 1),
            "wall_seconds": round(time.perf_counter() - wall_before, 1),
            **figures,
        }
        with args.out.open("a", encoding="utf-8") as out:
            out.write(json.dumps(row) + "\n")
        print(
            world,
            policy,
            row["recovered_minor"],
            row["contacts_per_account"],
            row["breaches"],
            flush=True,
        )


if __name__ == "__main__":
    main()
