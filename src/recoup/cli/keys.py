"""`recoup keys ...`: the encryption keys, their use, rotation and the master key."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from recoup.bootstrap import load_master
from recoup.cli.common import console, fail, runtime
from recoup.keys import service as keys_service
from recoup.kit import crypto
from recoup.kit.errors import RecoupError

encryption_app = typer.Typer(
    help="Encryption keys: status, rotation, the master key.", no_args_is_help=True
)


@encryption_app.command("status")
def status() -> None:
    """Every data and index key (wrapped by the master key) and how many values each seals."""
    rt = runtime()
    with rt.transaction() as session:
        rows = keys_service.status(session)
    table = Table(title="encryption keys")
    for column in ("key", "purpose", "state", "master", "created", "retired", "values sealed"):
        table.add_column(
            column, justify="right" if column == "values sealed" else "left", no_wrap=True
        )
    for use in rows:
        k = use.key
        table.add_row(
            k.id,
            k.purpose,
            k.state,
            k.master_id,
            f"{k.created_at:%Y-%m-%d}",
            f"{k.retired_at:%Y-%m-%d}" if k.retired_at else "",
            f"{use.values:,}" if k.purpose == "data" else "",
        )
    console.print(table)


@encryption_app.command("rotate")
def rotate(
    batch_size: Annotated[int, typer.Option(min=1, max=50_000, help="rows per transaction")] = 500,
) -> None:
    """Activate a new data key and re-seal every personal field under it, in small transactions,
    while the service keeps running. Interrupted, it resumes where it stopped when run again."""
    rt = runtime()
    try:
        master = load_master(rt.settings)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:,} rows"),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            tasks: dict[str, TaskID] = {}

            def step(table: str, done: int, _total: int) -> None:
                if table not in tasks:
                    tasks[table] = progress.add_task(f"re-sealing {table}", total=None)
                progress.update(tasks[table], completed=done)

            report = keys_service.rotate(
                rt.engine, master, actor="cli", clock=rt.clock, batch_size=batch_size, progress=step
            )
    except RecoupError as exc:
        raise fail(exc.message) from exc
    console.print(
        f"[green]rotated[/]: new data key [bold]{report.new_key}[/]; {report.resealed:,} values "
        f"re-sealed in {report.passes} pass(es); retired {', '.join(report.retired) or 'nothing'}"
    )


@encryption_app.command("rewrap")
def rewrap(
    new_master_file: Annotated[
        Path, typer.Argument(help="the new master key file (created if missing)")
    ],
) -> None:
    """Wrap every data and index key under a new master key. Then point
    RECOUP_ENCRYPTION_KEY_FILE at the new file; no personal field is re-sealed."""
    rt = runtime()
    try:
        old = load_master(rt.settings)
        if not new_master_file.exists():
            crypto.write_master_key_file(
                new_master_file, crypto.LocalMasterKey.generate(development=old.development)
            )
        new = crypto.load_master_key_file(new_master_file)
        with rt.transaction() as session:
            count = keys_service.rewrap(session, old, new, actor="cli", clock=rt.clock)
    except RecoupError as exc:
        raise fail(exc.message) from exc
    console.print(
        f"[green]re-wrapped[/] {count} keys under master key [bold]{new.id}[/] "
        f"({new_master_file}); set RECOUP_ENCRYPTION_KEY_FILE to it"
    )
