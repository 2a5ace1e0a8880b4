"""`recoup strategy ...`: check a policy file before it goes live."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from recoup.cli.common import console, fail
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
