"""`recoup db partitions`: the monthly partitions' upkeep the daily run does, shown and run by hand."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from recoup.cli.common import console, parse_date, runtime
from recoup.daily import flows as daily_flows
from recoup.kit import partitions

db_app = typer.Typer(help="The database: monthly partitions on PostgreSQL.", no_args_is_help=True)


@db_app.command("partitions")
def partitions_command(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be done; change nothing")
    ] = False,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="Business date, YYYY-MM-DD; default today in the business zone"
        ),
    ] = None,
) -> None:
    """Make the next months' partitions (this month and two ahead) and drop the months past the
    longest record-keeping period that nothing holds any more, as the daily run does. On SQLite
    (plain tables) there is nothing to do."""
    rt = runtime()
    day = parse_date(as_of, option="--as-of") or daily_flows.today(
        rt.clock, rt.settings.business_zone
    )
    with rt.transaction() as session:
        ran = daily_flows.run_of(session, day)  # and a database that was never set up says so
        done = daily_flows.maintain_partitions(session, day, dry_run=dry_run)
    console.print(_table(done))
    if ran is not None:
        console.print(f"{day}'s daily run kept them already ({ran.started_at:%H:%M} UTC)")
    if done.skipped:
        console.print(f"skipped: {done.skipped}")
    verb = "would be" if dry_run else "were"
    console.print(
        f"{sum(a.kind == 'create' for a in done.actions)} {verb} made, "
        f"{sum(a.kind == 'drop' for a in done.actions)} {verb} dropped, "
        f"{sum(a.kind == 'hold' for a in done.actions)} held past "
        f"{daily_flows.retention_years()} years"
    )


def _table(done: partitions.Maintenance) -> Table:
    table = Table(title="Partition upkeep")
    for column in ("action", "table", "partition", "why"):
        table.add_column(column)
    for a in done.actions:
        table.add_row(a.kind, a.table, a.partition, a.detail)
    return table
