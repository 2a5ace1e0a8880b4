"""`recoup demo`: the whole engine on a simulated portfolio, on a fresh SQLite file.

A 20,000-account portfolio is generated and imported, then 60 days ending yesterday are simulated
(`recoup.simulation`): each day the daily pass and the default China policy (with its champion /
challenger experiment on tone) decide, the guard checks, the dispatcher sends, agents call, and the
simulated debtors pay, promise, ask for plans, dispute, complain and reply STOP through the real
flows. Then the KPIs are printed and written to report.html."""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo
from pathlib import Path

from rich.table import Table

from recoup.cli.common import Runtime, console
from recoup.cli.report import write_report
from recoup.cli.simulate import run_one, summary_table
from recoup.contact import service as contact_service
from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import SystemClock
from recoup.kit.money import format_money
from recoup.simulation.world import Portfolio, World

LOCALE = {"CNY": "zh_CN", "USD": "en_US", "GBP": "en_GB"}
DEMO_POLICY = Path(__file__).resolve().parents[1] / "strategy" / "policies" / "cn-wallet.yaml"
ZONE = zoneinfo.ZoneInfo("Asia/Shanghai")


def run_demo(*, accounts: int, days: int, seed: int, database: Path, out: Path) -> None:
    started = time.perf_counter()
    today = SystemClock().now().astimezone(ZONE).date()
    start = today - dt.timedelta(days=days)  # the simulated days end yesterday
    world = World(portfolio=Portfolio(accounts=accounts))
    console.rule(
        f"Recoup demo · {accounts:,} accounts · {days} days from {start} · seed {seed} · {database}"
    )
    label = f"{DEMO_POLICY.stem} (champion, challenger)"
    result, rt = run_one(
        world,
        DEMO_POLICY.read_text(encoding="utf-8"),
        str(DEMO_POLICY),
        days,
        seed,
        start,
        database,
    )
    console.print(summary_table([(label, result)]))
    with rt.transaction() as session:
        rows = delinquency_service.portfolio_by_bucket(session)
    console.print(
        portfolio_table(
            rows, title=f"Portfolio at the end of {start + dt.timedelta(days=days - 1)} by bucket"
        )
    )
    show_a_message(rt, start + dt.timedelta(days=days - 1))
    write_report(rt, start=start, end=None, out=out)
    console.print(
        f"done in {time.perf_counter() - started:.1f} s. Look around with "
        f"RECOUP_DATABASE_URL=sqlite:///{database} and [bold]recoup accounts show ID[/], "
        "[bold]recoup report[/], [bold]recoup audit contacts[/] or [bold]recoup serve[/]"
    )


def show_a_message(rt: Runtime, day: dt.date) -> None:
    """One SMS of the last day as sent (the name masked), and where its story is told."""
    with rt.transaction() as session:
        sample = contact_service.sample_sent(session, day, "sms")
        explanation = contact_service.explain(session, sample) if sample else None
    if explanation and explanation["sent"]:
        console.print(
            f"an SMS as sent on {day} (contact {sample}, name masked; "
            f"[bold]recoup contact explain {sample}[/] tells its story):"
        )
        console.print(f"  {explanation['sent']['body']}", markup=False)


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
