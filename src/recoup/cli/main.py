"""The `recoup` command."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Annotated

import typer

from recoup.bootstrap import ensure_audit_signer, ensure_master, init_database
from recoup.cli.assistant import assistant_app
from recoup.cli.audit import audit_app
from recoup.cli.common import (
    Runtime,
    configure_logging,
    console,
    fail,
    fewer_collections,
    parse_date,
    runtime,
)
from recoup.cli.compliance import compliance_app
from recoup.cli.contact import contact_app, worker
from recoup.cli.daily import run_daily, scheduler
from recoup.cli.db import db_app
from recoup.cli.group import COMPLY, LEARN, LOOK, OPERATE, RUN, SET_UP, Group
from recoup.cli.identity import keys_app, staff_app
from recoup.cli.keys import encryption_app
from recoup.cli.models import models_app
from recoup.cli.privacy import privacy_app
from recoup.cli.report import report
from recoup.cli.simulate import simulate
from recoup.cli.strategy import strategy_app
from recoup.cli.templates import templates_app
from recoup.daily import flows as daily_flows
from recoup.kit.errors import RecoupError

app = typer.Typer(help="Recoup: collections for digital wallets.", no_args_is_help=True, cls=Group)


@app.callback()
def _logging() -> None:
    """Structured JSON logs to standard error (or RECOUP_LOG_FILE), personal data redacted."""
    configure_logging()


run_app = typer.Typer(help="Batch passes.", no_args_is_help=True)
accounts_app = typer.Typer(help="Look at accounts.", no_args_is_help=True)
# `recoup --help` in the order a newcomer needs (panels, then commands: cli/group.py), one line each.
app.add_typer(
    strategy_app,
    name="strategy",
    rich_help_panel=SET_UP,
    short_help="Check, compare, try and activate a collection policy (YAML).",
)
app.add_typer(
    templates_app,
    name="templates",
    rich_help_panel=SET_UP,
    short_help="List message templates and preview one rendered.",
)
app.add_typer(
    run_app,
    name="run",
    rich_help_panel=RUN,
    short_help="Run a business day by hand: `recoup run daily`.",
)
app.add_typer(
    accounts_app,
    name="accounts",
    rich_help_panel=LOOK,
    short_help="Show one account: bills, payments, delinquency, buckets.",
)
app.add_typer(
    contact_app,
    name="contact",
    rich_help_panel=LOOK,
    short_help="Explain one contact's decision; list and retry failed sends.",
)
app.add_typer(
    models_app,
    name="models",
    rich_help_panel=LEARN,
    short_help="Train a calibrated risk model on any CSV; score a CSV with it.",
)
app.add_typer(
    assistant_app,
    name="assistant",
    rich_help_panel=LEARN,
    short_help="Classify debtors' messages (intent, amount, date); train and measure the model.",
)
app.add_typer(
    staff_app, name="staff", rich_help_panel=OPERATE, short_help="Add staff users with a role."
)
app.add_typer(
    keys_app,
    name="apikeys",
    rich_help_panel=OPERATE,
    short_help="Create, list and revoke API keys for integrations.",
)
app.add_typer(
    encryption_app,
    name="keys",
    rich_help_panel=OPERATE,
    short_help="Encryption keys: status, rotation, a new master key.",
)
app.add_typer(
    db_app,
    name="db",
    rich_help_panel=OPERATE,
    short_help="Monthly partitions on PostgreSQL: made ahead, expired ones dropped.",
)
app.add_typer(
    compliance_app,
    name="compliance",
    rich_help_panel=COMPLY,
    short_help="Ask the guard about one contact; list rules and calendars.",
)
app.add_typer(
    audit_app,
    name="audit",
    rich_help_panel=COMPLY,
    short_help="Verify the tamper-evident audit ledger; checkpoints; the contact audit.",
)
app.add_typer(
    privacy_app,
    name="privacy",
    rich_help_panel=COMPLY,
    short_help="Data-subject rights: export, erasure, retention.",
)
app.command(
    "simulate",
    rich_help_panel=RUN,
    short_help="Compare policies on a simulated portfolio, each on its own fresh database.",
)(simulate)
app.command(
    "worker",
    rich_help_panel=RUN,
    short_help="Send due contacts through the configured channels until stopped.",
)(worker)
app.command(
    "report",
    rich_help_panel=LOOK,
    short_help="KPIs, roll rates and experiments for a period; writes report.html.",
)(report)
app.command(
    "scheduler",
    rich_help_panel=RUN,
    short_help="Run the day every day at RECOUP_DAILY_RUN_AT (or --once, for cron).",
)(scheduler)
run_app.command("daily")(run_daily)


@app.command(rich_help_panel=SET_UP)
def init() -> None:
    """Create or upgrade the database and seed reference data. Safe to run twice."""
    rt = runtime(keys=False)
    try:
        master, created = ensure_master(rt.settings)
        if ensure_audit_signer(rt.settings):
            console.print(
                f"generated an audit signing key at [bold]{rt.settings.audit_signing_key_file}[/]"
            )
        added = init_database(rt.engine, clock=rt.clock, master=master)
    except RecoupError as exc:
        raise fail(exc.message) from exc
    if created:
        console.print(
            f"generated a development master key at [bold]{rt.settings.encryption_key_file}[/]"
        )
    console.print(
        f"database ready at [bold]{rt.engine.url.render_as_string(hide_password=True)}[/]"
        + (f" ({added} default products added)" if added else "")
    )


@app.command(rich_help_panel=RUN)
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
) -> None:
    """Serve the REST API (OpenAPI at /docs)."""
    import uvicorn

    rt = runtime()  # fail early, with a clear message, on a missing key or bad settings
    configure_logging(minimum="INFO")
    if rt.settings.sandbox_wallet and "public_url" not in rt.settings.model_fields_set:
        # Development: pay links and the sandbox wallet (which "Pay now" calls) live where this
        # server listens, not at the default :8000 another port would leave them at.
        local = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 (a comparison)
        local = f"[{local}]" if ":" in local else local
        os.environ["RECOUP_PUBLIC_URL"] = f"http://{local}:{port}"
        console.print(f"pay links and the sandbox wallet at {os.environ['RECOUP_PUBLIC_URL']}")
    trusted = rt.settings.trusted_proxies
    uvicorn.run(
        "recoup.api.main:app",
        host=host,
        port=port,
        workers=workers,
        # Our logging (kit.logging): uvicorn's access log goes through the same redaction as every
        # line, so a path's link token and a query's phone number are masked there too.
        log_config=None,
        log_level="info",
        # Forwarded headers are believed from RECOUP_TRUSTED_PROXIES only (uvicorn's own default
        # trusts 127.0.0.1, so any local process could choose the address a limit counts).
        proxy_headers=bool(trusted),
        forwarded_allow_ips=",".join(trusted) if trusted else "",
    )


@accounts_app.command("show")
def accounts_show(
    ref: Annotated[str, typer.Argument(help="Account id or external reference")],
    locale: Annotated[str, typer.Option(help="Locale for money and dates")] = "zh_CN",
) -> None:
    """An account: its bills, payments, delinquency and bucket history (personal data masked)."""
    from recoup.cli.views import show_account

    rt = runtime()
    with rt.transaction() as session:
        try:
            show_account(session, ref, locale=locale, clock=rt.clock)
        except RecoupError as exc:
            raise fail(exc.message) from exc


@app.command(
    "import",
    rich_help_panel=SET_UP,
    short_help="Import customers, accounts, bills and payments (CSV or JSON Lines).",
)
def import_files(
    files: Annotated[
        list[Path], typer.Argument(help="CSV or JSON Lines files; kind from the name or --kind")
    ],
    kind: Annotated[str | None, typer.Option(help="customers, accounts, bills or payments")] = None,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Import valid rows, report the rest")
    ] = False,
    report: Annotated[
        Path | None, typer.Option(help="Where to write the error report (CSV)")
    ] = None,
) -> None:
    """Import customers, accounts, bills and payments. By default a file with any invalid row imports
    nothing; re-running a file imports nothing twice."""
    from recoup.cli.imports import run_import

    rt = runtime()
    if not run_import(rt, files, kind=kind, skip_invalid=skip_invalid, report=report):
        raise typer.Exit(1)


@app.command(rich_help_panel=SET_UP)
def generate(
    customers: Annotated[int, typer.Option(help="How many customers")] = 1000,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives the same portfolio")
    ] = 1,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Portfolio date, YYYY-MM-DD")] = None,
    foreign_share: Annotated[
        float, typer.Option(help="Share of customers outside mainland China")
    ] = 0.1,
) -> None:
    """Generate a realistic synthetic wallet portfolio through the import path."""
    from recoup.cli.imports import generate_portfolio

    rt = runtime()
    day = parse_date(as_of, option="--as-of") or _today(rt)
    generate_portfolio(rt, customers=customers, seed=seed, as_of=day, foreign_share=foreign_share)


@app.command(
    rich_help_panel=SET_UP,
    short_help="60 simulated days of a 20,000-account portfolio on a fresh file; writes report.html.",
)
def demo(
    accounts: Annotated[int, typer.Option(min=1, help="Portfolio size")] = 20_000,
    days: Annotated[int, typer.Option(min=1, max=365, help="Days to simulate")] = 60,
    seed: Annotated[int, typer.Option(help="Random seed")] = 7,
    database: Annotated[
        Path | None,
        typer.Option(
            help="SQLite file for the demo (recreated); by default the one `recoup serve` reads "
            "(RECOUP_DATABASE_URL, recoup.db)"
        ),
    ] = None,
    replace: Annotated[
        bool, typer.Option(help="Recreate the file even if an earlier demo did not make it")
    ] = False,
    out: Annotated[Path, typer.Option(help="Where to write the HTML report")] = Path("report.html"),
) -> None:
    """Simulate the last 60 days of a 20,000-account portfolio on a fresh SQLite file with the
    default China policy and its challenger (the real daily pass, strategy, guard, dispatcher and
    repayment flows; simulated debtors), print the KPIs, write report.html, and leave a staff
    user per role to sign in to the console with (development only)."""
    from recoup.cli.demo import demo_database, run_demo

    if "RECOUP_LOG_LEVEL" not in os.environ:
        # What a warning would say (drift alerts, a calendar running out) the demo prints in its
        # own words; JSON lines between its tables would only confuse a newcomer.
        configure_logging(maximum="ERROR")
    try:
        target = demo_database(database, replace=replace)
    except RecoupError as exc:
        raise fail(exc.message) from exc
    with fewer_collections():
        run_demo(accounts=accounts, days=days, seed=seed, database=target, out=out)


def _today(rt: Runtime) -> dt.date:
    return daily_flows.today(rt.clock, rt.settings.business_zone)


def main() -> None:
    app()
