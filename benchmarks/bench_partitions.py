"""PostgreSQL at size: the hot queries' plans on a benchmark-sized database with monthly
partitions, and what the partition upkeep costs.

    PYTHONPATH=src .venv/bin/python -m benchmarks.bench_partitions \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench_parts \
        --accounts 100000 [--plain]

Builds a fresh database with the delinquency benchmark's portfolio (every customer with a phone),
activates the shipped China policy and runs the daily flow on three days a month apart (so
decisions and contacts fill three monthly partitions), then prints `EXPLAIN (ANALYZE, BUFFERS)`
of each hot query exactly as the code sends it (captured from the repositories' own functions,
run in a transaction rolled back afterwards):

- the outbox claim (`contact.repository.claim_due`);
- the contacts counted per customer for the frequency caps at send time
  (`contact.repository.history`, a batch of 200 customers);
- the decisions of a day (`strategy.repository.decided_accounts`);
- the audit tail (`audit.repository.entries_after` the last checkpoint);
- the timeline of an account (`contact.repository.of_account`, `contact.repository.events_of`).

`--plain` first takes the migration back (plain tables), for the same figures without partitions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, select, text
from sqlalchemy.orm import Session

from benchmarks.common import fresh_database, load_portfolio, timed
from recoup.audit import repository as audit_repo
from recoup.bootstrap import alembic_config
from recoup.contact import repository as contact_repo
from recoup.daily import flows as daily_flows
from recoup.kit import partitions
from recoup.kit.clock import SettableClock
from recoup.kit.db import make_engine, make_sessionmaker, session_scope
from recoup.models import StrategyDecision
from recoup.strategy import repository as strategy_repo
from recoup.strategy import service as strategy_service

POLICY = Path(__file__).resolve().parents[1] / "src/recoup/strategy/policies/cn-wallet.yaml"
AS_OF = dt.date(2026, 6, 1)
REPEAT = 50
DAYS = (AS_OF - dt.timedelta(days=60), AS_OF - dt.timedelta(days=30), AS_OF)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench_parts",
    )
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--plain", action="store_true", help="plain tables (migration taken back)")
    parser.add_argument(
        "--months-back",
        type=int,
        default=72,
        help="empty monthly partitions made before the first day (six years' worth by default: "
        "what the retention keeps), so planning sees as many partitions as in production",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="use the database a previous run built (only the plans and the timings per call)",
    )
    args = parser.parse_args()
    if args.reuse:
        engine = make_engine(args.database_url)
        explain_hot_queries(engine, make_sessionmaker(engine))
        return
    times: dict[str, float] = {}
    engine = fresh_database(args.database_url)
    if args.plain:
        from alembic import command

        config = alembic_config(args.database_url)
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "7c3e9a1d5b20")
    with timed("load portfolio (not part of the runs)", times):
        load_portfolio(
            engine, accounts=args.accounts, bills_per_account=3, as_of=AS_OF, phones=True
        )
    factory = make_sessionmaker(engine)
    clock = SettableClock(dt.datetime.combine(DAYS[0], dt.time(1), tzinfo=dt.UTC))
    with session_scope(factory) as session:
        version = strategy_service.save_policy(
            session,
            POLICY.read_text(encoding="utf-8"),
            author="bench",
            clock=clock,
            source=str(POLICY),
        )
        strategy_service.activate(session, version.id, actor="bench", clock=clock)
    if not args.plain and args.months_back:
        with timed(f"{args.months_back} older months made", times), session_scope(factory) as s:
            month = partitions.month_of(DAYS[0])
            for _ in range(args.months_back):
                month = dt.date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)
                for spec in (*contact_repo.PARTITIONS, *strategy_repo.PARTITIONS):
                    partitions.create(s, spec, month)
    for day in DAYS:
        clock.set(dt.datetime.combine(day, dt.time(1), tzinfo=dt.UTC))
        steps: dict[str, float] = {}
        with timed(f"daily run {day}", times), session_scope(factory) as session:
            ran = daily_flows.run_day(
                session,
                day,
                clock=clock,
                zone="Asia/Shanghai",
                actor="bench",
                timer=lambda name, sink=steps: timed(f"  {name}", sink),  # type: ignore[misc]
            )
        if ran.partitions is not None:
            print(f"    partitions: {ran.partitions.summary() or 'nothing to do'}")
        if day != AS_OF:  # the dispatcher's part, in short: the day's contacts sent that day
            with engine.begin() as conn:
                conn.execute(
                    text(
                        "UPDATE contact_plans SET status = 'sent', sent_at = scheduled_at "
                        "WHERE as_of_date = :d AND status = 'planned'"
                    ),
                    {"d": day},
                )
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
        sizes = conn.execute(
            text(
                "SELECT relname, reltuples::bigint FROM pg_class WHERE relkind = 'r' AND "
                "reltuples > 0 AND (relname = 'audit_events' OR relname LIKE 'contact_plans_%' "
                "OR relname LIKE 'contact_events_%' OR relname LIKE 'strategy_decisions_%') "
                "ORDER BY relname"
            )
        ).all()
    print("rows (estimates after ANALYZE): " + ", ".join(f"{n} {r:,}" for n, r in sizes))
    with session_scope(factory) as session:
        start = time.perf_counter()
        idle = daily_flows.maintain_partitions(session, AS_OF)
        print(
            f"partition upkeep with nothing to do: {1000 * (time.perf_counter() - start):.1f} ms "
            f"({len(idle.actions)} actions)"
        )
    explain_hot_queries(engine, factory)


def explain_hot_queries(engine: Engine, factory: Any) -> None:
    now = dt.datetime.combine(AS_OF, dt.time(12), tzinfo=dt.UTC)
    with session_scope(factory) as session:
        customers = [
            int(c)
            for c in session.execute(
                text(
                    "SELECT DISTINCT customer_id FROM contact_plans WHERE as_of_date = :d "
                    "ORDER BY customer_id LIMIT 200"
                ),
                {"d": AS_OF},
            ).scalars()
        ]
        account, contact_id = session.execute(
            text("SELECT account_id, id FROM contact_plans WHERE as_of_date = :d LIMIT 1"),
            {"d": AS_OF},
        ).one()
        checkpointed = audit_repo.head(session, lock=False).checkpointed_seq
    queries: list[tuple[str, Callable[[Session], object]]] = [
        ("outbox claim", lambda s: contact_repo.claim_due(s, now, limit=500)),
        ("contacts per customer for the caps", lambda s: contact_repo.history(s, customers, now)),
        # `strategy.repository.decided_accounts` sends this statement inside COPY (... ) TO STDOUT
        (
            "decisions of a day",
            lambda s: s.execute(
                select(StrategyDecision.account_id).where(StrategyDecision.as_of_date == AS_OF)
            ).all(),
        ),
        (
            "audit tail",
            lambda s: audit_repo.entries_after(s, max(0, checkpointed - 1000), limit=1000),
        ),
        (
            "timeline: an account's contacts",
            lambda s: contact_repo.of_account(s, account, limit=50),
        ),
        ("timeline: a contact's events", lambda s: contact_repo.events_of(s, contact_id)),
    ]
    for title, call in queries:
        captured: list[tuple[str, Any]] = []

        def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
            captured.append((statement, params))  # noqa: B023 - read before the next query

        event.listen(engine, "before_cursor_execute", capture)
        session = factory()
        try:
            call(session)
            statement, params = next(
                (st, p) for st, p in reversed(captured) if st.lstrip().upper().startswith("SELECT")
            )
            raw = session.connection().connection.driver_connection
            with raw.cursor() as cursor:
                cursor.execute(
                    "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, SUMMARY ON) " + statement, params
                )
                plan = [r[0] for r in cursor.fetchall()]
        finally:
            session.rollback()
            session.close()
            event.remove(engine, "before_cursor_execute", capture)
        with session_scope(factory) as session:  # the same call again and again, one connection
            for _ in range(10):
                call(session)
            start = time.perf_counter()
            for _ in range(REPEAT):
                call(session)
            each = (time.perf_counter() - start) / REPEAT
        print(f"\n### {title}\n")
        print(f"{1000 * each:.2f} ms a call ({REPEAT} calls after 10, one connection)")
        print(" ".join(statement.split())[:400])
        print("\n".join(line if len(line) < 240 else line[:236] + " ..." for line in plan))


if __name__ == "__main__":
    main()
