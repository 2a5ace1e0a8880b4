"""`recoup demo`: the whole foundation on a laptop, on a fresh SQLite file."""

from __future__ import annotations

import datetime as dt
import shutil
import threading
import time
import zoneinfo
from collections import Counter
from pathlib import Path

from rich.table import Table

from recoup.bootstrap import ensure_audit_signer, ensure_master, init_database
from recoup.channels.config import load_channels
from recoup.cli.common import Runtime, console
from recoup.cli.imports import generate_portfolio
from recoup.cli.report import write_report
from recoup.cli.strategy import run_strategy
from recoup.config import Settings
from recoup.contact import service as contact_service
from recoup.contact.dispatch import DispatchConfig
from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import SettableClock, SystemClock
from recoup.kit.money import format_money
from recoup.strategy import service as strategy_service
from recoup.worker.dispatcher import Dispatcher

LOCALE = {"CNY": "zh_CN", "USD": "en_US", "GBP": "en_GB"}
DEMO_POLICY = Path(__file__).resolve().parents[1] / "strategy" / "policies" / "cn-wallet.yaml"


def run_demo(*, customers: int, seed: int, database: Path, out: Path) -> None:
    started = time.perf_counter()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    outbox = Path(f"{database.stem}-outbox")
    shutil.rmtree(outbox, ignore_errors=True)  # the demo's own spool, recreated like its database
    settings = Settings(database_url=f"sqlite:///{database}", spool_dir=outbox)
    rt = Runtime(settings, SystemClock())
    master, created = ensure_master(settings)
    ensure_audit_signer(settings)
    if created:
        console.print(
            f"generated a development master key at [bold]{settings.encryption_key_file}[/]"
        )
    init_database(rt.engine, clock=rt.clock, master=master)
    today = rt.clock.now().astimezone(zoneinfo.ZoneInfo("Asia/Shanghai")).date()
    console.rule(f"Recoup demo · {customers:,} customers · seed {seed} · {database}")
    generate_portfolio(rt, customers=customers, seed=seed, as_of=today, foreign_share=0.1)
    with console.status("daily pass"), rt.transaction() as session:
        summary = delinquency_service.run_daily(session, today, clock=rt.clock)
    with rt.transaction() as session:
        rows = delinquency_service.portfolio_by_bucket(session)
    console.print(portfolio_table(rows, title=f"Portfolio as of {summary.as_of} by bucket"))
    with rt.transaction() as session:
        version = strategy_service.save_policy(
            session,
            DEMO_POLICY.read_text(encoding="utf-8"),
            author="demo",
            clock=rt.clock,
            source=str(DEMO_POLICY),
        )
        strategy_service.activate(session, version.id, actor="demo", clock=rt.clock)
    run_strategy(rt, today, required=True)
    send_the_day(rt, today, outbox)
    write_report(rt, start=None, end=None, out=out)
    console.print(
        f"{summary.accounts:,} accounts, {summary.bucket_changes:,} entered a delinquent bucket; "
        f"done in {time.perf_counter() - started:.1f} s. Try [bold]recoup accounts show ID[/] "
        f"with RECOUP_DATABASE_URL=sqlite:///{database}"
    )


def send_the_day(rt: Runtime, day: dt.date, outbox: Path) -> None:
    """The worker sends the day's contacts into the spool, on a clock that jumps from one planned
    moment to the next (the demo does not wait for the evening window)."""
    with rt.transaction() as session:
        moments = contact_service.planned_moments(session, day)
    if not moments:
        return
    clock = SettableClock(moments[0])
    dispatcher = Dispatcher(
        rt.sessions,
        load_channels(None, spool_dir=outbox).adapters(),
        clock=clock,
        config=DispatchConfig.from_settings(rt.settings, "demo"),
    )
    outcomes: Counter[str] = Counter()
    try:
        with console.status("sending the day's contacts"):
            for moment in moments:
                clock.set(max(moment, rt.clock.now()))
                outcomes += dispatcher.run(stop=threading.Event(), until_idle=True)
    finally:
        dispatcher.close()
    console.print(
        "outbox: "
        + ", ".join(f"{n:,} {status}" for status, n in sorted(outcomes.items()))
        + f"; messages written to [bold]{outbox}/[/] (read them there)"
    )
    with rt.transaction() as session:
        sample = contact_service.sample_sent(session, day, "sms")
        explanation = contact_service.explain(session, sample) if sample else None
    if explanation and explanation["sent"]:
        console.print(
            f"an SMS as sent (contact {sample}, name masked; "
            f"[bold]recoup contact explain {sample}[/] tells its story):"
        )
        console.print(f"  {explanation['sent']['body']}", markup=False)
        console.print(
            "its link opens the debtor's portal (with pay now through a sandbox wallet) once "
            "[bold]recoup serve[/] runs on this database"
        )


def portfolio_table(rows: list[tuple[str, str, int, int, int]], *, title: str) -> Table:
    table = Table(title=title)
    table.add_column("bucket")
    table.add_column("currency")
    table.add_column("accounts", justify="right")
    table.add_column("share", justify="right")
    table.add_column("overdue", justify="right")
    table.add_column("outstanding", justify="right")
    totals: dict[str, int] = {}
    for _bucket, currency, count, _o, _t in rows:
        totals[currency] = totals.get(currency, 0) + count
    for bucket, currency, count, overdue, outstanding in sorted(
        rows, key=lambda r: (r[1], len(r[0]), r[0])
    ):
        locale = LOCALE.get(currency, "en")
        table.add_row(
            bucket,
            currency,
            f"{count:,}",
            f"{count / totals[currency]:.1%}",
            format_money(overdue, currency, locale),
            format_money(outstanding, currency, locale),
        )
    return table
