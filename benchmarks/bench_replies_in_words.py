"""What debtors replying in words cost the simulator: the demo's world (its policy, default
responses) with `replies_in_words` 0 and 0.5, the run's wall and CPU time and the assistant's
figures.

    nice -n 10 .venv/bin/python -m benchmarks.bench_replies_in_words 2000 10
"""

import datetime as dt
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from recoup.bootstrap import init_database
from recoup.contact.dispatch import DispatchConfig
from recoup.kit import crypto
from recoup.kit.clock import SettableClock
from recoup.kit.db import make_engine, make_sessionmaker
from recoup.simulation.runner import Simulation, local
from recoup.simulation.world import Portfolio, Responses, World

POLICY = Path(__file__).resolve().parents[1] / "src/recoup/strategy/policies/cn-wallet.yaml"
accounts, days = int(sys.argv[1]), int(sys.argv[2])
for rate in (0.0, 0.5):
    start = dt.date(2026, 6, 1)
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'sim.db'}")
        clock = SettableClock(local(start - dt.timedelta(days=1), 23))
        init_database(engine, clock=clock, master=crypto.LocalMasterKey.generate(development=True))
        world = World(
            portfolio=Portfolio(accounts=accounts), responses=Responses(replies_in_words=rate)
        )
        sim = Simulation(
            make_sessionmaker(engine),
            clock,
            world,
            seed=7,
            start=start,
            config=DispatchConfig(worker="sim"),
        )
        sim.load_portfolio(days=days, policy_text=POLICY.read_text(), policy_source=str(POLICY))
        t0, c0 = time.perf_counter(), time.process_time()
        r = sim.run(days)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        phases = Counter()
        for d in r.days:
            phases.update(d.seconds)
        print(
            f"replies_in_words={rate}: run {wall:.1f} s wall, {cpu:.1f} s CPU; debtors reacting {phases['debtors reacting']:.1f} s; words {r.total('replied_in_words')}; {r.assistant}",
            flush=True,
        )
