"""`recoup run daily` and `recoup scheduler`: the daily flow (`recoup.daily.flows`) by hand, or at
the configured local hour of the business zone, once a day."""

from __future__ import annotations

import datetime as dt
import signal
import threading
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from recoup.assistant import service as assistant_service
from recoup.channels.wallet import WalletPaymentsAdapter
from recoup.cli.common import Runtime, console, fail, parse_date, runtime
from recoup.daily import flows as daily_flows
from recoup.kit.errors import RecoupError


class Engine(StrEnum):
    local = "local"
    spark = "spark"


def bucket_table(by_bucket: dict[str, int]) -> Table:
    table = Table(title="Accounts by bucket")
    table.add_column("bucket")
    table.add_column("accounts", justify="right")
    for bucket in sorted(by_bucket, key=lambda b: (len(b), b)):
        table.add_row(bucket, f"{by_bucket[bucket]:,}")
    return table


def run_daily(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="Business date, YYYY-MM-DD; default today in the business zone"
        ),
    ] = None,
    engine: Annotated[
        Engine,
        typer.Option(
            "--engine",
            help="Where the strategy decides: local (this process) or spark (pyspark, at "
            "RECOUP_SPARK_MASTER, default local[2]); the decisions are the same",
        ),
    ] = Engine.local,
) -> None:
    """The day's run: arrangements kept and broken, days past due and buckets for the whole
    portfolio, the strategy's decisions and contacts, stale agent tasks expired. A day runs once."""
    rt = runtime()
    day = parse_date(as_of, option="--as-of") or daily_flows.today(
        rt.clock, rt.settings.business_zone
    )
    run_and_print(rt, day, actor="daily-run", engine=engine.value)


def run_and_print(
    rt: Runtime, day: dt.date, *, actor: str, engine: str = "local"
) -> daily_flows.DayRun:
    expired = 0
    with console.status("daily run") as status:
        try:
            url, secrets = rt.settings.wallet_api
            wallet = WalletPaymentsAdapter(url=url, secret=secrets)
            try:
                with rt.transaction() as session:
                    result = daily_flows.run_day(
                        session,
                        day,
                        clock=rt.clock,
                        zone=rt.settings.business_timezone,
                        actor=actor,
                        progress=lambda msg: status.update(f"daily run: {msg}"),
                        wallet=wallet,
                        engine=engine,
                        read_ahead=True,
                    )
                    if result.ran:  # the assistant's conversations idle for a week
                        expired = assistant_service.expire_idle(session, clock=rt.clock)
            finally:
                wallet.close()
        except RecoupError as exc:
            raise fail(exc.message) from exc
    if not result.ran:
        when = result.previous.started_at.isoformat(timespec="seconds") if result.previous else "?"
        console.print(
            f"{day} has run already (started {when} by {result.previous and result.previous.actor}); nothing done"
        )
        return result
    review, summary, report = result.review, result.delinquency, result.strategy
    if review is not None and review.reviewed:
        console.print(
            f"arrangements: {review.reviewed:,} reviewed, {review.kept:,} kept, "
            f"{review.broken:,} broken"
        )
    collected = result.autopay
    if collected is not None and collected.asked:
        console.print(
            f"autopay: {collected.asked:,} collections asked, {collected.succeeded:,} collected, "
            f"{collected.failed:,} failed"
        )
    if summary is not None:
        console.print(
            f"as of {summary.as_of}: {summary.accounts:,} accounts, {summary.changed:,} states "
            f"changed, {summary.bucket_changes:,} bucket changes"
        )
        console.print(bucket_table(summary.by_bucket))
    scoring = result.scoring
    if scoring is not None and scoring.scored:
        console.print(
            "scored: "
            + ", ".join(f"{n:,} accounts {kind}" for kind, n in scoring.scored.items())
            + (
                f"; [red]{len(scoring.alerts)} drift alerts[/] (recoup models drift)"
                if scoring.alerts
                else ""
            )
        )
    if report is not None:
        console.print(
            f"strategy {report.policy}: {report.accounts:,} accounts decided"
            + (f" ({report.skipped:,} already decided today)" if report.skipped else "")
            + f"; contacts {report.contacts_planned:,} planned, "
            f"{report.contacts_deferred:,} deferred, {report.contacts_blocked:,} blocked; "
            f"{report.agent_tasks:,} agent tasks"
        )
    elif result.no_policy:
        console.print(f"[dim]{result.no_policy}[/]")
    if result.tasks_expired:
        console.print(f"{result.tasks_expired:,} agent tasks from earlier days expired")
    if expired:
        console.print(f"{expired:,} conversations with the assistant idle for a week expired")
    return result


def next_run(now: dt.datetime, at: dt.time, zone: dt.tzinfo) -> dt.datetime:
    """The next moment the day's run is due: today at `at` in the zone if that is still ahead,
    else tomorrow's (a wall-clock time, so it follows the zone's daylight-saving changes)."""
    local = now.astimezone(zone)
    due = dt.datetime.combine(local.date(), at, tzinfo=zone)
    if due <= local:
        due = dt.datetime.combine(local.date() + dt.timedelta(days=1), at, tzinfo=zone)
    return due


def scheduler(
    once: Annotated[
        bool, typer.Option("--once", help="Run today's day if it is due and has not run, then exit")
    ] = False,
) -> None:
    """Run the day at RECOUP_DAILY_RUN_AT (local time in RECOUP_BUSINESS_TIMEZONE), once a day;
    started after that time, it runs today's day at once if it has not run. Stop with Ctrl-C or
    SIGTERM. Cron instead: `RECOUP_... recoup scheduler --once` at that hour."""
    rt = runtime()
    zone = rt.settings.business_zone
    at = dt.time.fromisoformat(rt.settings.daily_run_at)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    console.print(f"scheduler: the day runs at {at:%H:%M} {rt.settings.business_timezone}")
    try:
        while not stop.is_set():
            now = rt.clock.now()
            local = now.astimezone(zone)
            if local.time() >= at:
                run_and_print(rt, local.date(), actor="scheduler")
            if once:
                return
            due = next_run(rt.clock.now(), at, zone)
            console.print(f"next run {due.isoformat(timespec='minutes')}")
            stop.wait(max(1.0, (due - rt.clock.now()).total_seconds()))
    except KeyboardInterrupt:
        return
