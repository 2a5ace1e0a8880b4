"""The SQL statements the simulator's days send, counted by what they read or write: a figure
that does not depend on the machine's load (the demo's wall and CPU times on a shared machine
swing by more than one change saves).

    PYTHONPATH=src .venv/bin/python -m benchmarks.demo_statements --accounts 20000 --days 3

A fresh SQLite database, the default world, the China policy (as `bench_simulation`); prints the
statements of the simulated days that go through SQLAlchemy (the portfolio's load not counted; `kit.frames` reads SQLite through the driver and is not seen), in all and for each of
`--table` (default: the audit head and the products), and the CPU time of the days. Run it on two
commits (PYTHONPATH pointing at each one's src/) to see what a change takes off.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import event

from recoup.bootstrap import init_database
from recoup.contact.dispatch import DispatchConfig
from recoup.kit import crypto
from recoup.kit.clock import SettableClock
from recoup.kit.db import make_engine, make_sessionmaker
from recoup.simulation.runner import Simulation, local
from recoup.simulation.world import Portfolio, World

POLICY = Path(__file__).resolve().parents[1] / "src/recoup/strategy/policies/cn-wallet.yaml"
FROM = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", re.IGNORECASE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--table", action="append", default=None)
    args = parser.parse_args()
    tables = args.table or ["audit_head", "products"]
    start = dt.date(2026, 6, 1)
    counted: Counter[str] = Counter()
    counting = False

    def note(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if not counting:
            return
        counted["all"] += 1
        first = FROM.search(statement)
        if first is not None and first.group(1).lower() in tables:
            counted[first.group(1).lower()] += 1

    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'sim.db'}")
        clock = SettableClock(local(start - dt.timedelta(days=1), 23))
        master = crypto.LocalMasterKey.generate(development=True)
        init_database(engine, clock=clock, master=master)
        simulation = Simulation(
            make_sessionmaker(engine),
            clock,
            World(portfolio=Portfolio(accounts=args.accounts)),
            seed=args.seed,
            start=start,
            config=DispatchConfig(worker="bench"),
        )
        simulation.load_portfolio(
            days=args.days, policy_text=POLICY.read_text(encoding="utf-8"), policy_source="bench"
        )
        event.listen(engine, "before_cursor_execute", note)
        counting = True
        began = time.process_time()
        result = simulation.run(args.days)
        cpu = time.process_time() - began
        counting = False
    print(
        f"{args.accounts:,} accounts, {args.days} days: {counted['all']:,} statements "
        f"({', '.join(f'{t} {counted[t]:,}' for t in tables)}); "
        f"{cpu:.1f} s CPU; {sum(d.payments for d in result.days):,} payments"
    )


if __name__ == "__main__":
    main()
