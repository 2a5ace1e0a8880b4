"""`recoup simulate`: the real engine on a simulated portfolio, on a database of its own."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from recoup.analytics import formats
from recoup.analytics import service as analytics_service
from recoup.analytics.schemas import Period
from recoup.audit.contacts import audit_contacts
from recoup.bootstrap import ensure_audit_signer, ensure_master, init_database
from recoup.cli.common import Runtime, console, fail, fewer_collections, parse_date
from recoup.config import Settings
from recoup.contact.dispatch import DispatchConfig
from recoup.kit.clock import SettableClock
from recoup.kit.db import checkpoint_every
from recoup.kit.errors import RecoupError
from recoup.simulation.runner import Simulation, SimulationResult, local
from recoup.simulation.world import WorldError, load_world
from recoup.strategy.policy import PolicyError, load_policy

DEFAULT_POLICY = Path(__file__).resolve().parents[1] / "strategy" / "policies" / "cn-wallet.yaml"
# A simulation's database checkpoints its WAL every this many pages (40 MiB of 4 KiB pages), not
# SQLite's 1,000: the 60-day demo made 310 checkpoints and waited 4-13 s on their 931 disk syncs,
# against some 50 checkpoints this way (`kit.db.checkpoint_every` says what it changes: the
# commits a power cut may roll back; docs/benchmarks.md, "The demo", 7 December, afternoon).
CHECKPOINT_PAGES = 10_000


def simulate(
    world_file: Annotated[
        Path | None, typer.Option("--world", help="World YAML; default: the calibrated defaults")
    ] = None,
    policy_files: Annotated[
        list[Path] | None,
        typer.Option("--policy", help="Policy YAML; repeat to compare several on the same world"),
    ] = None,
    days: Annotated[int, typer.Option(min=1, max=730, help="Days to simulate")] = 30,
    seed: Annotated[int, typer.Option(help="The same seed gives the same run")] = 7,
    accounts: Annotated[
        int | None, typer.Option(min=1, help="Override the world's number of accounts")
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="First simulated day, YYYY-MM-DD; default today")
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for each run's SQLite database")] = Path(
        "recoup-simulations"
    ),
) -> None:
    """Run the real daily pass, strategy, compliance guard, outbox and dispatcher on a simulated
    portfolio whose debtors pay, promise, ask for plans, dispute, complain and reply STOP as the
    world says, with a simulated clock. Each policy runs on its own fresh database with the same
    portfolio and the same debtors, so the runs differ only by policy."""
    try:
        world = load_world(world_file)
        policies = [load_policy(p) for p in (policy_files or [DEFAULT_POLICY])]
    except (WorldError, PolicyError, OSError) as exc:
        raise fail(str(exc)) from exc
    if accounts is not None:
        world = world.model_copy(
            update={"portfolio": world.portfolio.model_copy(update={"accounts": accounts})}
        )
    first = parse_date(start, option="--start") or dt.datetime.now(dt.UTC).date()
    results = []
    with fewer_collections():
        for n, policy in enumerate(policies, start=1):
            # Numbered: two versions of one policy (a champion and its edit) keep a database each.
            database = out / f"{n}-{policy.name}-{policy.version}-seed{seed}.db"
            label = f"{n}. {policy.name} {policy.version} ({Path(policy.source).name})"
            console.rule(f"{label} · {world.world} · {days} days · seed {seed}")
            result, _ = run_one(world, policy.text, str(policy.source), days, seed, first, database)
            results.append((label, result))
    console.print(summary_table(results))
    if any(r.segments.keys() - {"-"} for _, r in results):
        console.print(segment_table(results))


def run_one(
    world: object,
    policy_text: str,
    policy_source: str,
    days: int,
    seed: int,
    start: dt.date,
    database: Path,
) -> tuple[SimulationResult, Runtime]:
    """One policy on a fresh database: the run, its timing and the contact audit on the screen;
    the result, and the runtime (its clock where the run stopped) for what comes after."""
    from recoup.simulation.world import World

    assert isinstance(world, World)
    database.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    settings = Settings(database_url=f"sqlite:///{database}")
    clock = SettableClock(local(start - dt.timedelta(days=1), 23))
    rt = simulation_runtime(settings, clock)
    master, created = ensure_master(settings)
    ensure_audit_signer(settings)
    if created:
        console.print(
            f"generated a development master key at [bold]{settings.encryption_key_file}[/]"
        )
    init_database(rt.engine, clock=clock, master=master)
    rt.install_keys()
    started = time.perf_counter()
    simulation = Simulation(
        rt.sessions,
        clock,
        world,
        seed=seed,
        start=start,
        config=DispatchConfig.from_settings(settings, "simulator"),
    )
    try:
        with console.status(f"generating and importing {world.portfolio.accounts:,} accounts"):
            simulation.load_portfolio(
                days=days, policy_text=policy_text, policy_source=policy_source
            )
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("simulating", total=days)

            def progress(done: int, total: int, message: str) -> None:
                bar.update(task, completed=done, description=message)

            result = simulation.run(days, progress)
    except RecoupError as exc:
        raise fail(exc.message) from exc
    phases: Counter[str] = Counter()
    cpu: Counter[str] = Counter()
    for day in result.days:
        phases.update(day.seconds)
        cpu.update(day.cpu)
    console.print(
        f"{days} days in {time.perf_counter() - started:.1f} s (by phase, wall/CPU: "
        + ", ".join(
            f"{phase} {seconds:.1f}/{cpu[phase]:.1f} s" for phase, seconds in phases.most_common()
        )
        + f"); database [bold]{database}[/]"
    )
    with rt.sessions() as session:
        audit = audit_contacts(session)
        period = Period(from_date=start, to_date=start + dt.timedelta(days=days - 1))
        rolls = analytics_service.roll_rates(session, period)
        recovery = analytics_service.recovery(session, period)
    result.rolls = {(c.from_bucket, c.to_bucket): c.share for c in rolls.cells}
    result.recovery = Counter({r.currency: r.collected_minor for r in recovery})
    result.breaches = len(audit.breaches)
    style = "green" if not audit.breaches else "bold red"
    console.print(
        f"[{style}]independent audit of what was sent: {audit.contacts:,} contacts checked, "
        f"{len(audit.breaches):,} breaches[/] (recoup audit contacts lists them)"
    )
    return result, rt


def simulation_runtime(settings: Settings, clock: SettableClock) -> Runtime:
    """The runtime of a simulation's own SQLite file (made again by each run): its WAL
    checkpointed every `CHECKPOINT_PAGES` pages."""
    rt = Runtime(settings, clock)
    checkpoint_every(rt.engine, CHECKPOINT_PAGES)
    return rt


def _total(r: SimulationResult, event: str) -> str:
    return f"{r.total(event):,}"


def _roll(r: SimulationResult, cell: tuple[str, str]) -> str:
    share = r.rolls.get(cell)
    return "-" if share is None else f"{share:.2%}"


def _money(amounts: Counter[str]) -> str:
    """Amounts by currency, in English as `recoup report` prints them (`analytics.formats`)."""
    return (
        ", ".join(
            formats.money(amount, currency, "en") for currency, amount in sorted(amounts.items())
        )
        or "0"
    )


def recovered_minor(r: SimulationResult) -> int:
    """What was recovered as the report counts it, in minor units of every currency added up (a
    world's portfolio is mostly one currency; the table shows each)."""
    return sum(r.recovery.values())


def contacts_per_account(r: SimulationResult) -> float:
    return r.contacts() / r.accounts if r.accounts else 0.0


def _change(value: float, base: float) -> str:
    return f"{(value - base) / base:+.1%}" if base else "-"


def segment_table(results: list[tuple[str, SimulationResult]]) -> Table:
    """Per segment of the world: its accounts, and per policy what was recovered from it and the
    contacts its debtors got, by channel (what a learning policy chose for them)."""
    table = Table(title="By segment of the world")
    table.add_column("segment")
    table.add_column("accounts", justify="right")
    for name, _ in results:
        # The simulator's own tally by the world's segments (payments not made by their due
        # date), not the report's recovery, which knows no world segment.
        table.add_column(f"{name}: paid late", justify="right")
        table.add_column("contacts / account, by channel", justify="left")
    sizes = results[0][1].segments
    for segment in sorted(sizes):
        cells = [segment, f"{sizes[segment]:,}"]
        for _, r in results:
            recovered: Counter[str] = Counter()
            for (name, currency), amount in r.per_segment("segment_recovered").items():
                if name == segment:
                    recovered[currency] += amount
            sent = {
                channel: count
                for (name, channel), count in r.per_segment("segment_sent").items()
                if name == segment
            }
            size = max(sizes[segment], 1)
            cells += [
                _money(recovered),
                f"{sum(sent.values()) / size:.2f}: "
                + ", ".join(f"{c} {n / size:.2f}" for c, n in sorted(sent.items())),
            ]
        table.add_row(*cells)
    return table


def _assistant(result: SimulationResult, *, measure: str) -> str:
    """One of the assistant's figures over the run (`assistant.service.kpis`)."""
    k = result.assistant
    if k is None:
        return "-"
    if measure == "resolved":
        share = k.resolved_without_person / k.conversations
        return f"{k.resolved_without_person:,} ({share:.0%})"
    if measure == "handed_over":
        why = ", ".join(f"{reason} {count}" for reason, count in k.handed_over_by_reason.items())
        return f"{k.handed_over:,}" + (f" ({why})" if why else "")
    if measure == "median":
        m = k.median_minutes_to_resolution
        return "-" if m is None else f"{m:,.1f}"
    return f"{k.conversations:,}"


def summary_table(results: list[tuple[str, SimulationResult]]) -> Table:
    """One row per measure, one column per policy: reads on a narrow terminal, and policies run
    on one world compare side by side."""
    table = Table(title="Simulated outcomes")
    table.add_column("")
    for name, _ in results:
        table.add_column(name, justify="right")

    def compared(
        label: str, value: Callable[[SimulationResult], str]
    ) -> list[tuple[str, Callable[[SimulationResult], str]]]:
        """A row against the first policy, which only a second policy gives a meaning (the demo
        runs one: its "+0.0%" read as a finding)."""
        return [(label, value)] if len(results) > 1 else []

    rows: list[tuple[str, Callable[[SimulationResult], str]]] = [
        (
            "paid in (every bill)",
            lambda r: _money(r.collected),
        ),
        # As report.html and the dashboard count it over the same days (`analytics.service`).
        ("recovered (applied while overdue)", lambda r: _money(r.recovery)),
        *compared(
            "recovered, against the first",
            lambda r: _change(recovered_minor(r), recovered_minor(results[0][1])),
        ),
        ("payments (every bill)", lambda r: f"{sum(d.payments for d in r.days):,}"),
        ("of them, collected by autopay", partial(_total, event="autopay")),
        ("roll current -> 1-30 DPD", partial(_roll, cell=("M0", "M1"))),
        ("roll 1-30 -> 31-60 DPD", partial(_roll, cell=("M1", "M2"))),
        ("contacts per account", lambda r: f"{contacts_per_account(r):.2f}"),
        *compared(
            "contacts per account, against the first",
            lambda r: _change(contacts_per_account(r), contacts_per_account(results[0][1])),
        ),
        ("messages", lambda r: f"{sum(v for k, v in r.sent.items() if k != 'dial'):,}"),
        ("calls placed", lambda r: f"{r.sent['dial']:,}"),
        ("calls answered", lambda r: f"{r.total('call_answered'):,}"),
    ]
    for event in ("promise", "plan", "dispute", "complaint", "stop"):
        label = "STOP replies" if event == "stop" else f"{event}s"
        rows.append((label, partial(_total, event=event)))
    if any(r.assistant is not None for _, r in results):
        rows += [
            ("replies in words (the assistant)", partial(_total, event="replied_in_words")),
            ("assistant: conversations", partial(_assistant, measure="conversations")),
            ("assistant: resolved without a person", partial(_assistant, measure="resolved")),
            ("assistant: handed over", partial(_assistant, measure="handed_over")),
            ("assistant: median minutes to resolution", partial(_assistant, measure="median")),
        ]
    rows.append(
        ("contact audit breaches", lambda r: "-" if r.breaches is None else f"{r.breaches:,}")
    )
    for label, value in rows:
        table.add_row(label, *(value(r) for _, r in results))
    return table
