"""`recoup report` on a 60,000-account portfolio: the KPIs, roll rates, experiments and the HTML.

    .venv/bin/python -m benchmarks.bench_report --database-url sqlite:////tmp/bench_report.db
    .venv/bin/python -m benchmarks.bench_report \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench_report

Builds a fresh database with the simulation generator's portfolio (50,000 customers, about 60,000
accounts) through the import path, then 30 business days of history: the delinquency pass and the
shipped China policy (with its holdout experiment) each day. Contacts are not dispatched; to give
the contact queries rows to read, six in ten planned contacts are marked delivered and two in ten
sent, set-based, as a dispatcher would leave them. None of that is timed. Timed: what
`recoup report` does after parsing its options (every read and statistic, the fairness
comparison, the Rich tables, the HTML written to a file).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import phonenumbers
from rich.console import Console
from sqlalchemy import text

from benchmarks.common import fresh_database, timed
from recoup.analytics import fairness as fairness_service
from recoup.analytics import report as html_report
from recoup.analytics import service as analytics_service
from recoup.cli import report as report_cli
from recoup.delinquency import service as delinquency_service
from recoup.ingest.columns import ORDER
from recoup.ingest.importer import Importer
from recoup.kit.clock import SettableClock
from recoup.kit.db import make_sessionmaker, session_scope
from recoup.simulation.generator import Generator, Portfolio
from recoup.strategy import service as strategy_service

POLICY = (
    Path(__file__).resolve().parents[1]
    / "src"
    / "recoup"
    / "strategy"
    / "policies"
    / "cn-wallet.yaml"
)
DAYS = 30


def portfolios(customers: int, as_of: dt.date, chunk: int = 5_000) -> Iterator[Portfolio]:
    """The generator's portfolio in chunks of 5,000 customers (seeds 1, 2, ...). A seed whose
    draw of phone numbers makes `phonenumbers.parse` raise (the generator lets that escape, now and
    then over tens of thousands of draws) is skipped for the next."""
    seed, made = 0, 0
    while made < customers:
        seed += 1
        size = min(chunk, customers - made)
        try:
            portfolio = Generator(seed=seed, as_of=as_of).portfolio(size, prefix=f"s{seed}-")
        except phonenumbers.NumberParseException:
            continue
        made += size
        yield portfolio


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="sqlite:////tmp/bench_report.db")
    parser.add_argument("--customers", type=int, default=50_000)
    args = parser.parse_args()
    end = dt.date(2026, 6, 1)
    start = end - dt.timedelta(days=DAYS - 1)
    times: dict[str, float] = {}
    engine = fresh_database(args.database_url)
    factory = make_sessionmaker(engine)
    # The import runs on the portfolio's date (its payments must not be in the future); each daily
    # run then runs at its own day's start.
    clock = SettableClock(dt.datetime.combine(end, dt.time(23), tzinfo=dt.UTC))
    with timed("generate and import the portfolio (not timed)", times):
        accounts = bills = 0
        for portfolio in portfolios(args.customers, end):
            for kind in ORDER:
                with session_scope(factory) as session:
                    result = Importer(session, clock=clock).import_rows(
                        f"generated {kind}", kind, portfolio.frame(kind)
                    )
                    assert not result.errors, result.errors[:3]
            accounts, bills = accounts + len(portfolio.accounts), bills + len(portfolio.bills)
    print(f"  {accounts:,} accounts, {bills:,} bills")
    with session_scope(factory) as session:
        version = strategy_service.save_policy(
            session, POLICY.read_text(encoding="utf-8"), author="bench", clock=clock, source="p"
        )
        strategy_service.activate(session, version.id, actor="bench", clock=clock)
    with timed(f"{DAYS} days of daily runs (not timed)", times):
        day = start
        while day <= end:
            clock.set(dt.datetime.combine(day, dt.time(0, 30), tzinfo=dt.UTC))
            with session_scope(factory) as session:
                delinquency_service.run_daily(session, day, clock=clock)
                strategy_service.run(session, day, clock=clock)
            day += dt.timedelta(days=1)
    with session_scope(factory) as session:
        session.execute(
            text(
                "UPDATE contact_plans SET sent_at = scheduled_at, status = CASE "
                "WHEN id % 10 < 6 THEN 'delivered' ELSE 'sent' END "
                "WHERE status = 'planned' AND id % 10 < 8"
            )
        )
        counts = session.execute(
            text("SELECT status, count(*) FROM contact_plans GROUP BY status ORDER BY status")
        ).all()
        events = session.execute(text("SELECT count(*) FROM delinquency_events")).scalar_one()
    print(f"  contacts by status {dict(counts)}; {events:,} bucket changes")
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))

    report_cli.console = Console(file=io.StringIO(), width=120)  # the tables, printed unseen
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.html"
        started = time.perf_counter()
        with timed("read and compute", times), session_scope(factory) as session:
            period = analytics_service.period(session, None, None, clock=clock)
            data = analytics_service.report_data(
                session, period, costs=analytics_service.load_costs()
            )
        with timed("fairness by age band, region and sex", times), session_scope(factory) as s:
            fair = fairness_service.fairness(s, period)
        with timed("tables and report.html", times):
            report_cli.print_kpis(data.kpis, "en")
            report_cli.print_experiments(data.experiments, "en")
            report_cli.print_fairness(fair, "en")
            out.write_text(
                html_report.render(data, lang="en", generated_at=clock.now(), fairness=fair),
                encoding="utf-8",
            )
        total = time.perf_counter() - started
        size = out.stat().st_size
    k = data.kpis
    print(
        f"  period {period.from_date} to {period.to_date}: {k.accounts:,} accounts, "
        f"{sum(r.accounts for r in k.recovery):,} with money overdue, {k.attempts:,} attempts, "
        f"{len(data.experiments.experiments)} experiment(s); report {size / 1e6:.1f} MB"
    )
    print(
        f"  fairness: {fair.accounts:,} accounts in collection, {len(fair.bands)} risk bands "
        f"({fair.risk_basis}), {len(fair.groups)} groups, {len(fair.alerts)} alert(s)"
    )
    print(f"recoup report: {total:.2f} s")


if __name__ == "__main__":
    main()
