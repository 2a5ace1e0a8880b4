"""The dispatcher benchmark with each step of a claim timed by the CPU of the thread running it
(`time.thread_time`, no profiler's per-call overhead), beside its wall time: the claim's reads, the check and its parts,
the batch's writes (the writes also count the send step's record, on its own thread). Extra
arguments go to bench_dispatch. Where the writes are pipelined (`repository.write_batch`), the
three writes' own lines hold only the sending of each; `write_batch` holds them and the wait for
the server's answers.

    .venv/bin/python -m benchmarks.profile_dispatch_phases --sink none --accounts 60000 --reuse \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench

cProfile (`bench_dispatch --profile --profile-cpu`) charges its own cost to every Python call, so
code of many small calls looks larger than it is: it ranks psycopg's array dumping first by its
own time, which measured alone is 0.11-0.15 µs an element, about 3 µs a message
(docs/benchmarks.md, "The outbox dispatcher", sixth round).
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from recoup.agents import service as agents_service
from recoup.contact import dispatch
from recoup.contact import repository as repo

cpu: Counter[str] = Counter()
wall: Counter[str] = Counter()
calls: Counter[str] = Counter()


def timed(owner: Any, name: str, label: str) -> None:
    inner: Callable[..., Any] = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start, started = time.thread_time(), time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            cpu[label] += time.thread_time() - start
            wall[label] += time.perf_counter() - started
            calls[label] += 1

    setattr(owner, name, wrapper)


def main() -> None:
    for name in (
        "plan_by_keys",
        "claim_due",
        "contacts",
        "lock_customers",
        "update_contacts",
        "add_events",
        "save_messages",
        "write_batch",  # the three writes above in one pipeline (absent from older code)
    ):
        if hasattr(repo, name):
            timed(repo, name, f"repository.{name}")
    timed(agents_service, "open_tasks", "agents.open_tasks")
    timed(dispatch, "_context", "the fact reads (_context)")
    timed(dispatch, "claim", "the claim, whole")
    for name in ("check", "_guard", "_render", "_address", "_account", "counted"):
        timed(dispatch._Context, name, f"check: {name}" if name != "check" else "the check")
    sys.argv = ["bench_dispatch", *sys.argv[1:]]
    from benchmarks import bench_dispatch

    bench_dispatch.main()
    sent = calls["the check"] or 1
    print(
        "the claiming thread's CPU by step, and its wall time (the CPU plus the waits: the "
        "database, the other threads' turn; the writes include the send step's record):"
    )
    for label, seconds in cpu.most_common():
        print(
            f"  {label:34s} {seconds * 1e3:8.1f} ms {calls[label]:7,} calls "
            f"{seconds / sent * 1e6:7.1f} µs a contact; wall {wall[label] * 1e3:8.1f} ms"
        )


if __name__ == "__main__":
    main()
