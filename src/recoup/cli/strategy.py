"""`recoup strategy ...`: check, activate, simulate and compare collection policies."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from recoup.cli.common import console, fail, parse_date, runtime
from recoup.kit.errors import RecoupError
from recoup.strategy import service as strategy_service
from recoup.strategy.policy import PolicyError, load_policy

strategy_app = typer.Typer(help="Collection policies.", no_args_is_help=True)


@strategy_app.command("validate")
def validate(
    policy_file: Annotated[Path, typer.Argument(help="a policy YAML file")],
) -> None:
    """Load a policy, check every key, name and expression, and summarise it. Errors name the
    file, line and column; exit status 1 when the policy does not load."""
    try:
        policy = load_policy(policy_file)
    except OSError as exc:
        raise fail(f"{policy_file}: {exc.strerror}") from exc
    except PolicyError as exc:
        raise fail(str(exc)) from exc
    table = Table(title=f"{policy.name} {policy.version}")
    table.add_column("stage")
    table.add_column("treatments (highest priority first)")
    for stage in policy.stages:
        ordered = sorted(stage.treatments, key=lambda t: -t.priority)
        table.add_row(
            stage.name, ", ".join(f"{t.id} ({t.channel}, {t.tone})" for t in ordered) or "-"
        )
    console.print(table)
    console.print(
        f"[green]valid[/]: {len(policy.segments)} segments, {len(policy.pauses)} pauses, "
        f"{len(policy.queues)} agent queues, {len(policy.offers)} offers, "
        f"{len(policy.experiments)} experiments"
    )


@strategy_app.command("activate")
def activate(
    policy_file: Annotated[Path, typer.Argument(help="a policy YAML file")],
    author: Annotated[str, typer.Option(help="who wrote it (recorded with the version)")] = "cli",
) -> None:
    """Store the policy as a version and make it the active one (audited)."""
    rt = runtime()
    try:
        text = policy_file.read_text(encoding="utf-8")
        with rt.transaction() as session:
            version = strategy_service.save_policy(
                session, text, author=author, clock=rt.clock, source=str(policy_file)
            )
            strategy_service.activate(session, version.id, actor=author, clock=rt.clock)
    except OSError as exc:
        raise fail(f"{policy_file}: {exc.strerror}") from exc
    except RecoupError as exc:
        raise fail(exc.message) from exc
    console.print(f"[green]active[/]: {version.name} {version.version} (version #{version.id})")


@strategy_app.command("simulate")
def simulate(
    policy_file: Annotated[Path, typer.Argument(help="a policy YAML file (need not be active)")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD; default today")] = None,
) -> None:
    """What the policy would decide and plan for today's portfolio, writing nothing."""
    rt = runtime()
    try:
        policy = load_policy(policy_file)
    except PolicyError as exc:
        raise fail(str(exc)) from exc
    day = parse_date(as_of, option="--as-of") or rt.clock.now().date()
    with rt.transaction() as session:
        decisions, contacts = strategy_service.plan(session, day, policy, now=rt.clock.now())
        session.rollback()
    if decisions.height == 0:
        console.print("no open accounts with a delinquency state; run `recoup run daily` first")
        return
    table = Table(
        title=f"{policy.name} {policy.version} as of {day}: {decisions.height:,} accounts"
    )
    for column in ("stage", "decision", "treatment", "accounts"):
        table.add_column(column, justify="right" if column == "accounts" else "left")
    summary = (
        decisions.group_by("stage", "decision", "treatment")
        .len()
        .sort("stage", "decision", "treatment", nulls_last=True)
    )
    for stage, decision, treatment, n in summary.iter_rows():
        table.add_row(stage or "-", decision, treatment or "-", f"{n:,}")
    console.print(table)
    if contacts.height:
        statuses = dict(contacts["status"].value_counts().iter_rows())
        reasons = (
            contacts.explode("codes")
            .drop_nulls("codes")
            .group_by("codes")
            .len()
            .sort("len", descending=True)
        )
        console.print(
            "compliance: "
            + ", ".join(f"{statuses.get(s, 0):,} {s}" for s in ("planned", "deferred", "blocked"))
            + (
                "; reasons: " + ", ".join(f"{c} {n:,}" for c, n in reasons.iter_rows())
                if reasons.height
                else ""
            )
        )


@strategy_app.command("diff")
def diff(
    old_file: Annotated[Path, typer.Argument(help="the policy in force")],
    new_file: Annotated[Path, typer.Argument(help="the candidate")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD; default today")] = None,
) -> None:
    """How many accounts would change stage, decision, treatment, channel or queue, by segment,
    with example account ids; writes nothing."""
    rt = runtime()
    try:
        old, new = load_policy(old_file), load_policy(new_file)
    except PolicyError as exc:
        raise fail(str(exc)) from exc
    day = parse_date(as_of, option="--as-of") or rt.clock.now().date()
    with rt.transaction() as session:
        changes = strategy_service.diff(session, day, old, new)
        session.rollback()
    if changes.height == 0:
        console.print(f"no account decides differently as of {day}")
        return
    table = Table(title=f"{old.name} {old.version} → {new.name} {new.version} as of {day}")
    for column in ("change", "segment", "from → to", "accounts", "examples"):
        table.add_column(column, justify="right" if column == "accounts" else "left")
    for change, segment, from_to, n, examples in changes.iter_rows():
        table.add_row(change, segment, from_to, f"{n:,}", ", ".join(map(str, examples)))
    console.print(table)
