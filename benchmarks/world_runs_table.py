"""Markdown rows (docs/models.md's tables) from `bench_world_runs` JSON lines: world, policy,
seed, recovered, vs champion, contacts / account, vs champion, complaints, breaches, per segment
(accounts, recovered, an agent's calls a head, the calls answered by day and in the evening), UTC,
load, CPU seconds.

    python -m benchmarks.world_runs_table runs.jsonl \\
        --champion worlds/evening-large.yaml:7=49553600/5.75

The champion of a (world, seed) is its `cn-wallet` row in the file, else a `--champion` figure
(recovered in minor units / contacts per account, e.g. from an earlier session's table)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

CHAMPION = "src/recoup/strategy/policies/cn-wallet.yaml"


def yuan(minor: float) -> str:
    return f"¥{minor / 100:,.0f}"


def change(new: float, old: float | None) -> str:
    return "" if not old else f"{(new - old) / old * 100:+.1f} %"


def segments(row: dict[str, Any]) -> str:
    parts = []
    for name, seg in sorted(row["segments"].items(), key=lambda kv: -kv[1]["accounts"]):
        calls = seg.get("calls", {})
        day = (
            calls.get("day answered", 0),
            calls.get("day answered", 0) + calls.get("day unanswered", 0),
        )
        eve = (
            calls.get("evening answered", 0),
            calls.get("evening answered", 0) + calls.get("evening unanswered", 0),
        )
        dial = seg["by_channel"].get("dial", 0.0)
        parts.append(
            f"{'none' if name == '-' else name} ({seg['accounts']:,}) {yuan(seg['recovered_minor'])}, "
            f"dial {dial:.2f} (answered {day[0]}/{day[1]} by day, {eve[0]}/{eve[1]} evening)"
        )
    return "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("runs", type=Path)
    parser.add_argument("--champion", action="append", default=[], help="WORLD:SEED=MINOR/CPA")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.runs.read_text(encoding="utf-8").splitlines()]
    champions: dict[tuple[str, int], tuple[float, float]] = {}
    for given in args.champion:
        key, _, figures = given.partition("=")
        world, _, seed = key.rpartition(":")
        minor, _, cpa = figures.partition("/")
        champions[(world, int(seed))] = (float(minor), float(cpa))
    for row in rows:
        if row["policy"] == CHAMPION:
            champions[(row["world"], row["seed"])] = (
                row["recovered_minor"],
                row["contacts_per_account"],
            )
    for row in rows:
        base = champions.get((row["world"], row["seed"]))
        is_champion = row["policy"] == CHAMPION
        print(
            "| "
            + " | ".join(
                [
                    f"`{Path(row['world']).stem}`",
                    f"`{Path(row['policy']).stem}`",
                    str(row["seed"]),
                    yuan(row["recovered_minor"]),
                    "" if is_champion else change(row["recovered_minor"], base and base[0]),
                    f"{row['contacts_per_account']:.2f}",
                    "" if is_champion else change(row["contacts_per_account"], base and base[1]),
                    str(row["complaints"]),
                    str(row["breaches"]),
                    segments(row),
                    f"{row['began']}-{row['ended']}",
                    f"{row['load'][0]}-{row['load'][1]}",
                    str(row.get("cpu_seconds", "")),
                ]
            )
            + " |"
        )


if __name__ == "__main__":
    main()
