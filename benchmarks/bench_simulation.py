"""The simulator's cost per simulated day, by phase, on a fresh SQLite database.

    .venv/bin/python -m benchmarks.bench_simulation --accounts 20000 --days 5

The issue's demo target is 20,000 accounts for 60 days in under 2 minutes; this prints where a
day's time goes so that target can be worked towards (docs/benchmarks.md has the figures)."""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from recoup.bootstrap import init_database
from recoup.contact.dispatch import DispatchConfig
from recoup.kit import crypto
from recoup.kit.clock import SettableClock
from recoup.kit.db import make_engine, make_sessionmaker
from recoup.simulation.runner import Simulation, local
from recoup.simulation.world import Portfolio, World

POLICY = Path(__file__).resolve().parents[1] / "src/recoup/strategy/policies/cn-wallet.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    start = dt.date(2026, 6, 1)
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
        began = time.perf_counter()
        simulation.load_portfolio(
            days=args.days, policy_text=POLICY.read_text(encoding="utf-8"), policy_source="bench"
        )
        loaded = time.perf_counter() - began
        began = time.perf_counter()
        result = simulation.run(args.days)
        ran = time.perf_counter() - began
    phases: dict[str, float] = {}
    for day in result.days:
        for phase, seconds in day.seconds.items():
            phases[phase] = phases.get(phase, 0.0) + seconds
    print(f"{args.accounts:,} accounts: portfolio generated and imported in {loaded:.1f} s")
    print(f"{args.days} days in {ran:.1f} s = {ran / args.days:.1f} s a day; by phase, a day:")
    for phase, seconds in sorted(phases.items(), key=lambda p: -p[1]):
        print(f"  {phase:<18} {seconds / args.days:6.2f} s")
    sent = result.sent
    print(
        f"a day: {sum(d.payments for d in result.days) / args.days:,.0f} payments, "
        f"{sum(sent.values()) / args.days:,.0f} contacts reached debtors, "
        f"{result.total('dials') / args.days:,.0f} dials, "
        f"{(result.total('promise') + result.total('plan')) / args.days:,.0f} arrangements"
    )


if __name__ == "__main__":
    main()
