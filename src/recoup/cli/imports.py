from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from recoup.cli.common import Runtime, console, err_console
from recoup.ingest.columns import ORDER, Kind, kind_of
from recoup.ingest.importer import Importer, ImportResult, write_report
from recoup.simulation.generator import Generator


@contextmanager
def progress_bar() -> Iterator[Progress]:
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        yield progress


def import_results_table(results: Sequence[ImportResult]) -> Table:
    table = Table(title="Import")
    for column in ("file", "kind", "rows", "imported", "already there", "invalid rows"):
        table.add_column(column, justify="right" if column not in ("file", "kind") else "left")
    for r in results:
        table.add_row(
            escape(r.file),
            str(r.kind),
            f"{r.rows:,}",
            f"{r.imported:,}",
            f"{r.existing:,}",
            f"{r.invalid_rows:,}",
        )
    return table


def run_import(
    rt: Runtime, files: list[Path], *, kind: str | None, skip_invalid: bool, report: Path | None
) -> bool:
    """Import files in dependency order (customers, accounts, bills, payments), each in its own
    transaction. Returns False when anything was rejected."""
    plan: list[tuple[Kind, Path]] = []
    for path in files:
        if not path.exists():
            err_console.print(f"[red]{escape(str(path))}: no such file[/]")
            return False
        found = Kind(kind) if kind else kind_of(path)
        if found is None:
            err_console.print(
                f"[red]{escape(path.name)}: cannot tell what the file holds; name it customers/accounts/"
                "bills/payments or pass --kind[/]"
            )
            return False
        plan.append((found, path))
    plan.sort(key=lambda item: ORDER.index(item[0]))
    results: list[ImportResult] = []
    with progress_bar() as progress:
        task = progress.add_task("importing", total=0)

        def report_step(message: str, count: int) -> None:
            progress.update(task, description=message, total=count, completed=0)

        for found, path in plan:
            with rt.transaction() as session:
                result = Importer(session, clock=rt.clock, progress=report_step).import_file(
                    path, kind=found, skip_invalid=skip_invalid
                )
                progress.update(task, completed=result.imported)
            results.append(result)
    console.print(import_results_table(results))
    errors = [e for r in results for e in r.errors]
    if errors:
        target = report or Path("import-errors.csv")
        write_report(target, results)
        for error in errors[:10]:
            # The file's own text (a field name, a value like `[/]`) is never read as Rich markup.
            err_console.print(f"  {escape(str(error))}")
        if len(errors) > 10:
            err_console.print(f"  ... and {len(errors) - 10:,} more")
        rejected = [r.file for r in results if r.errors and (not skip_invalid or r.rejected_file)]
        if rejected:
            err_console.print(
                f"[red]nothing imported from: {escape(', '.join(rejected))}[/] "
                "(fix the rows, or use --skip-invalid)"
            )
        err_console.print(
            f"all {len(errors):,} problems written to [bold]{escape(str(target))}[/] "
            "(readable by you only; phone numbers and e-mails in it masked)"
        )
        return False
    return True


def generate_portfolio(
    rt: Runtime, *, customers: int, seed: int, as_of: dt.date, foreign_share: float
) -> list[ImportResult]:
    with console.status(f"generating {customers:,} customers"):
        portfolio = Generator(seed=seed, as_of=as_of, foreign_share=foreign_share).portfolio(
            customers
        )
    results = []
    with progress_bar() as progress:
        task = progress.add_task("importing", total=0)

        def report_step(message: str, count: int) -> None:
            progress.update(task, description=message, total=count, completed=0)

        for found in ORDER:
            with rt.transaction() as session:
                result = Importer(session, clock=rt.clock, progress=report_step).import_rows(
                    f"generated {found}", found, portfolio.frame(found)
                )
            progress.update(task, completed=result.imported)
            if result.errors:
                raise RuntimeError(f"generated rows failed validation: {result.errors[:3]}")
            results.append(result)
    console.print(import_results_table(results))
    return results
