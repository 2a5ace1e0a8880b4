"""A learning policy against the champion ladder on the simulated worlds in `worlds/`: per world and
seed, both policies on the same debtors for the same days, the money recovered (paid toward
overdue amounts) and the contacts per account with the learner's difference in %, complaints, the
independent contact audit's breaches, and per segment what each policy sent by channel.

    .venv/bin/python -m benchmarks.bench_learning_worlds --accounts 5000 --days 90 --seeds 7
    .venv/bin/python -m benchmarks.bench_learning_worlds --worlds flat age-and-channel \\
        --learner src/recoup/strategy/policies/cn-wallet-learning.yaml --json out.json

Each run is a fresh SQLite database in a temporary folder; runs go one after another (the machine
is shared). docs/models.md ("Learning in simulated worlds") has the figures and the command."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from recoup.audit.contacts import audit_contacts
from recoup.bootstrap import init_database
from recoup.contact.dispatch import DispatchConfig
from recoup.kit import crypto
from recoup.kit.clock import SettableClock
from recoup.kit.db import make_engine, make_sessionmaker
from recoup.models import AgentTask, ContactPlan
from recoup.models.contact import QUEUE_ENTRY
from recoup.simulation.runner import Simulation, SimulationResult, local
from recoup.simulation.world import load_world
from recoup.strategy import service as strategy_service

ROOT = Path(__file__).resolve().parents[1]
POLICIES = ROOT / "src/recoup/strategy/policies"
START = dt.date(2026, 6, 1)


def run(world_path: Path, policy: Path, *, accounts: int, days: int, seed: int) -> dict[str, Any]:
    world = load_world(world_path)
    world = world.model_copy(
        update={"portfolio": world.portfolio.model_copy(update={"accounts": accounts})}
    )
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'sim.db'}")
        clock = SettableClock(local(START - dt.timedelta(days=1), 23))
        init_database(engine, clock=clock, master=crypto.LocalMasterKey.generate(development=True))
        sessions = make_sessionmaker(engine)
        simulation = Simulation(
            sessions, clock, world, seed=seed, start=START, config=DispatchConfig(worker="bench")
        )
        began = time.perf_counter()
        simulation.load_portfolio(
            days=days, policy_text=policy.read_text(encoding="utf-8"), policy_source=str(policy)
        )
        result = simulation.run(days)
        with sessions() as session:
            breaches = len(audit_contacts(session).breaches)
            queues = strategy_service.queue_choices(
                session, first=START, last=START + dt.timedelta(days=days)
            )
            worked = worked_tasks(session, simulation.debtors.segment_name)
        engine.dispose()
    return summary(result, breaches, time.perf_counter() - began, queues, worked)


def worked_tasks(session: Session, segment_of: Callable[[int], str]) -> Counter[tuple[str, str]]:
    """The agents' tasks worked (done), per (segment, where the task came from): a hand-off
    queue's name, or `calls:<treatment>` for a call a stage's treatment or arm planned."""
    planned = aliased(ContactPlan)
    rows = session.execute(
        select(AgentTask.account_id, AgentTask.queue, planned.treatment)
        .outerjoin(
            planned, (AgentTask.source == QUEUE_ENTRY) & (planned.id == AgentTask.subject_id)
        )
        .where(AgentTask.status == "done")
    )
    return Counter(
        (segment_of(account_id), f"{queue}:{treatment}" if treatment else queue)
        for account_id, queue, treatment in rows
    )


def summary(
    result: SimulationResult,
    breaches: int,
    seconds: float,
    queue_choices: dict[str, dict[str, int]] | None = None,
    worked: Counter[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """The run's figures; `queue_choices`: per learned hand-off queue, the decisions per arm
    (a none arm's: the accounts the queue did not call that day); `worked`: the agents' tasks
    done per (segment, source), shown per segment as `worked_by_source`: where the calls the
    agents worked for a segment came from (`worked_tasks`)."""
    per_segment: dict[str, dict[str, Any]] = {}
    for name, size in result.segments.items():
        sent = {c: n for (s, c), n in result.per_segment("segment_sent").items() if s == name}
        recovered = sum(
            n for (s, _), n in result.per_segment("segment_recovered").items() if s == name
        )
        calls = {k: n for (s, k), n in result.per_segment("segment_calls").items() if s == name}
        per_segment[name] = {
            "accounts": size,
            "calls": dict(sorted(calls.items())),
            "recovered_minor": recovered,
            "contacts_per_account": round(sum(sent.values()) / max(size, 1), 3),
            "by_channel": {c: round(n / max(size, 1), 3) for c, n in sorted(sent.items())},
            "worked_by_source": {
                k: n for (s, k), n in sorted((worked or Counter()).items()) if s == name
            },
        }
    return {
        "accounts": result.accounts,
        "recovered_minor": sum(result.recovered.values()),
        "paid_in_minor": sum(result.collected.values()),
        "contacts": result.contacts(),
        "contacts_per_account": round(result.contacts() / max(result.accounts, 1), 3),
        "complaints": result.total("complaint"),
        "breaches": breaches,
        "segments": per_segment,
        "queue_choices": queue_choices or {},
        "seconds": round(seconds, 1),
    }


def change(new: float, old: float) -> str:
    return f"{(new - old) / old:+.1%}" if old else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=5_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seeds", type=int, nargs="+", default=[7])
    parser.add_argument("--worlds", nargs="+", default=None, help="names in worlds/; default all")
    parser.add_argument("--champion", type=Path, default=POLICIES / "cn-wallet.yaml")
    parser.add_argument("--learner", type=Path, default=POLICIES / "cn-wallet-learning.yaml")
    parser.add_argument("--json", type=Path, default=None, help="write every figure here too")
    args = parser.parse_args()
    names = args.worlds or sorted(p.stem for p in (ROOT / "worlds").glob("*.yaml"))
    rows: list[dict[str, Any]] = []
    print(
        "| world | seed | champion recovered | learner recovered | difference | champion contacts "
        "/ account | learner contacts / account | difference | complaints (champion, learner) "
        "| breaches (champion, learner) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in names:
        for seed in args.seeds:
            path = ROOT / "worlds" / f"{name}.yaml"
            champion = run(path, args.champion, accounts=args.accounts, days=args.days, seed=seed)
            learner = run(path, args.learner, accounts=args.accounts, days=args.days, seed=seed)
            rows.append({"world": name, "seed": seed, "champion": champion, "learner": learner})
            c, n = champion, learner
            print(
                f"| {name} | {seed} | ¥{c['recovered_minor'] / 100:,.0f} "
                f"| ¥{n['recovered_minor'] / 100:,.0f} "
                f"| {change(n['recovered_minor'], c['recovered_minor'])} "
                f"| {c['contacts_per_account']:.2f} | {n['contacts_per_account']:.2f} "
                f"| {change(n['contacts_per_account'], c['contacts_per_account'])} "
                f"| {c['complaints']}, {n['complaints']} | {c['breaches']}, {n['breaches']} |",
                flush=True,
            )
            if args.json:
                args.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
