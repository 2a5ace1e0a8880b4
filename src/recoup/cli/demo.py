"""`recoup demo`: the whole engine on a simulated portfolio, on a fresh SQLite file.

A 20,000-account portfolio is generated and imported, then 60 days ending yesterday are simulated
(`recoup.simulation`): each day the daily pass and the default China policy (with its champion /
challenger experiment on tone) decide, the guard checks, the dispatcher sends, agents call, and the
simulated debtors pay, promise, ask for plans, dispute, complain and reply STOP through the real
flows. Then the KPIs are printed, the two risk models (`p_pay`, `p_roll`) are trained on the
simulated history and activated (so today's run scores every account owing before the strategy
decides, docs/models.md), and report.html is written with them.

The demo leaves a console to look at: its file is, by default, the one `recoup serve` reads (the
SQLite file of RECOUP_DATABASE_URL, `recoup.db` unless set), and it adds one staff user per role
with a password made for this run and printed once. Why not a fixed development password: a
password written in the source is one every reader of it holds, and a demo file copied to a
shared machine or served on a wider interface would open with it; a run's own password is as easy
to copy from the terminal. Development only: in production (RECOUP_ENV=production) the demo
refuses to run at all (it recreates its database file and adds staff without four eyes). The file
is recreated only when an earlier demo made it (a `.demo` marker beside it) or with `--replace`:
the default file may hold someone's own work."""

from __future__ import annotations

import datetime as dt
import secrets
import time
import zoneinfo
from pathlib import Path

from rich.table import Table
from sqlalchemy.engine import make_url

from recoup.analytics import formats
from recoup.cli.common import Runtime, console
from recoup.cli.daily import run_and_print
from recoup.cli.report import write_report
from recoup.cli.simulate import run_one, summary_table
from recoup.config import Environment, Settings
from recoup.contact import service as contact_service
from recoup.delinquency import service as delinquency_service
from recoup.identity import service as identity_service
from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock, SystemClock
from recoup.kit.errors import ConfigurationError
from recoup.risk import service as risk_service
from recoup.simulation.world import Portfolio, Responses, World

DEMO_POLICY = Path(__file__).resolve().parents[1] / "strategy" / "policies" / "cn-wallet.yaml"
ZONE = zoneinfo.ZoneInfo("Asia/Shanghai")
CONSOLE_URL = "http://127.0.0.1:8000/console"
# Of the debtors acting on a text, the share who write back in words (the assistant reads them).
DEMO_REPLIES_IN_WORDS = 0.5
# The demo's models: a 14-day outcome (its 60 days hold five weekly snapshots whose outcome is known)
MODEL_HORIZON, MODEL_SNAPSHOTS = 14, 5
# One staff user per role (usernames as the console's own tests use them), named after JOURNEYS.md.
DEMO_STAFF: tuple[tuple[str, Role, str], ...] = (
    ("agent", Role.agent, "陈刚"),
    ("supervisor", Role.supervisor, "王丽"),
    ("strategist", Role.strategist, "周敏"),
    ("compliance", Role.compliance_officer, "林律师"),
    ("admin", Role.administrator, "李管理"),
    ("auditor", Role.auditor, "赵审计"),
)


def served_database(settings: Settings) -> Path | None:
    """The SQLite file `recoup serve` reads with these settings (None: not a SQLite file)."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def demo_database(database: Path | None, *, replace: bool) -> Path:
    """The file the demo (re)creates: `database`, or the one `recoup serve` reads. Refused in
    production, and over a file an earlier demo did not make unless `replace`."""
    settings = Settings()
    if settings.env == Environment.production:
        raise ConfigurationError(
            "recoup demo is for development: it recreates its database and adds staff users "
            "with known passwords; RECOUP_ENV is production"
        )
    target = database or served_database(settings)
    if target is None:
        raise ConfigurationError(
            "the demo runs on a SQLite file and RECOUP_DATABASE_URL is not one: pass --database"
        )
    if target.exists() and not marker(target).exists() and not replace:
        raise ConfigurationError(
            f"{target} exists and no earlier demo made it; pass --replace to recreate it, or "
            "--database for another file"
        )
    return target


def marker(database: Path) -> Path:
    return Path(f"{database}.demo")


def run_demo(*, accounts: int, days: int, seed: int, database: Path, out: Path) -> None:
    started = time.perf_counter()
    today = SystemClock().now().astimezone(ZONE).date()
    start = today - dt.timedelta(days=days)  # the simulated days end yesterday
    # Some debtors write back in words, so the assistant is seen at work (its figures in the
    # summary); the rest of the world is the calibrated default.
    world = World(
        portfolio=Portfolio(accounts=accounts),
        responses=Responses(replies_in_words=DEMO_REPLIES_IN_WORDS),
    )
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
    # Today, as the scheduler's morning run would do it: today's contacts planned and the agents'
    # queues filled, so the console opens on a working day.
    if isinstance(rt.clock, SettableClock):
        rt.clock.set(SystemClock().now())
    train_models(rt, today - dt.timedelta(days=1))
    # The report covers the simulated days, written once the models exist so that its models
    # section shows them (before today's run, which plans contacts nobody has sent yet).
    # The simulated days exactly, as the summary above counts them (`run_one`'s period).
    write_report(rt, start=start, end=start + dt.timedelta(days=days - 1), out=out)
    console.rule(f"today's run ({today}), for the console")
    run_and_print(rt, today, actor="demo")
    marker(database).write_text("made by recoup demo; it recreates this database\n")
    password = add_demo_staff(rt)
    served = served_database(Settings())
    prefix = (
        ""
        if served is not None and served.resolve() == database.resolve()
        else f"RECOUP_DATABASE_URL=sqlite:///{database} "
    )
    console.print(
        f"done in {time.perf_counter() - started:.1f} s. Look around with "
        f"[bold]{prefix}recoup accounts show ID[/], [bold]recoup report[/], "
        "[bold]recoup audit contacts[/]"
    )
    print_sign_in(password, prefix)
    last = start + dt.timedelta(days=days - 1)
    # The console's dashboard opens on the 30 days up to its last daily pass (today's, one past
    # the simulated days): the report's days are these, figure for figure.
    console.print(
        f"report.html covers {start} to {last}; the dashboard for the same days: "
        f"{CONSOLE_URL.rstrip('/')}/dashboard?from={start}&to={last}",
        markup=False,
        highlight=False,
        soft_wrap=True,  # one line, the address whole
    )


def train_models(rt: Runtime, last_day: dt.date) -> None:
    """`p_pay` and `p_roll` trained on the simulated history up to `last_day` and activated, as
    `recoup models train --from-history --activate` does (the operator at the host)."""
    console.rule(f"risk models from the history up to {last_day}")
    table = Table(title="risk models (5-fold cross-validated)")
    for column in ("model", "snapshot rows", "positives", "AUC", "Brier"):
        table.add_column(column, justify="left" if column == "model" else "right")
    with rt.transaction() as session:
        for kind in ("p_pay", "p_roll"):
            try:
                with console.status(f"training {kind}"):
                    row = risk_service.train_from_history(
                        session,
                        as_of=last_day,
                        kind=kind,
                        actor="demo",
                        clock=rt.clock,
                        horizon_days=MODEL_HORIZON,
                        snapshots=MODEL_SNAPSHOTS,
                    )
            except risk_service.NotEnoughHistory as exc:  # a small demo (--accounts, --days)
                table.add_row(f"{kind} (not trained)", "-", "-", "-", "-")
                console.print(f"{exc.message}: today's run decides without {kind}")
                continue
            risk_service.activate(session, row.id, actor="demo", clock=rt.clock, at_host=True)
            m = row.metrics
            table.add_row(
                f"{kind} v{row.version} (#{row.id}, active)",
                f"{m.get('rows', 0):,}",
                f"{m.get('positives', 0):,}",
                f"{m['cv_auc']:.3f}" if m.get("cv_auc") is not None else "-",
                f"{m['brier']:.3f}" if m.get("brier") is not None else "-",
            )
    console.print(table)


def add_demo_staff(rt: Runtime) -> str:
    """One staff user per role, all with one password made for this run (returned, not kept)."""
    password = secrets.token_urlsafe(12)  # 16 characters, 96 bits
    with rt.transaction() as session:
        for username, role, name in DEMO_STAFF:
            identity_service.create_staff(
                session,
                username=username,
                display_name=name,
                role=role,
                password=password,
                clock=rt.clock,
                created_by="demo",
            )
    return password


def print_sign_in(password: str, prefix: str) -> None:
    table = Table(title="The console: a staff user per role (this run's password)")
    table.add_column("role")
    table.add_column("username")
    table.add_column("password")
    for username, role, _name in DEMO_STAFF:
        table.add_row(str(role), username, password)
    console.print(table)
    console.print(f"Open the console: run [bold]{prefix}recoup serve[/], then {CONSOLE_URL}")
    for username, role, _name in DEMO_STAFF:
        # One plain line per role, easy to copy (and to read in a script).
        console.print(f"sign in as {role}: {username} / {password}", markup=False, highlight=False)


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
        table.add_row(
            bucket,
            currency,
            f"{count:,}",
            f"{count / totals[currency]:.1%}",
            formats.money(overdue, currency, "en"),
            formats.money(outstanding, currency, "en"),
        )
    return table
