"""The assistant's understanding alone: 10,000 messages through `understand_many` (a batch, as
`recoup assistant classify` reads a file) and through `understand` one by one (as a reply
arrives): rules, cue words, amounts, dates and the n-gram model.

    .venv/bin/python benchmarks/bench_assistant.py --messages 10000

The messages are the labelled set's texts (all splits, ~2,000), repeated with a varying time so
the dates resolve against different days. The model is loaded before the clock starts (once per
process in production too); the load is timed on its own. Target: at most 2 s for 10,000 messages
on this machine; the load average is printed, since the 2 cores are shared, and so is the CPU
time the process used (what the run costs when it has a core to itself).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time

from recoup.assistant import dataset, understanding


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best is reported")
    args = parser.parse_args()
    rows = dataset.load()
    texts = [r.message.text for r in rows]
    times = [r.message.at for r in rows]
    batch = [
        (
            texts[i % len(texts)],
            times[i % len(times)] + dt.timedelta(days=i // len(texts)),
            None,
        )
        for i in range(args.messages)
    ]
    start = time.perf_counter()
    understanding.model.cache_clear()
    understanding.model()
    load = time.perf_counter() - start
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"model load: {load * 1000:.0f} ms")
    for label, run in (
        ("understand_many (a batch, as the CLI)", lambda: understanding.understand_many(batch)),
        (
            "understand (one by one, as the inbox)",
            lambda: [understanding.understand(text, at=at) for text, at, _ in batch],
        ),
    ):
        best, best_cpu = float("inf"), float("inf")
        for _ in range(args.repeat):
            start, cpu = time.perf_counter(), time.process_time()
            run()
            best = min(best, time.perf_counter() - start)
            best_cpu = min(best_cpu, time.process_time() - cpu)
        print(
            f"{label}: {args.messages:,} messages in {best:.2f} s wall, {best_cpu:.2f} s of CPU "
            f"(best of {args.repeat}; {args.messages / best:,.0f} a second; target 2 s)",
            flush=True,
        )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
