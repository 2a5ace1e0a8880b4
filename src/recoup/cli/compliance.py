"""`recoup compliance ...`: ask the guard about one contact, and list the rules it applies."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from pydantic import ValidationError
from rich.table import Table

from recoup.cli.common import console, fail
from recoup.compliance import (
    Guard,
    HouseFileError,
    PackError,
    ScenarioError,
    calendars,
    check,
    deployment_guard,
    load_guard,
)
from recoup.compliance.explain import explain, rules_markdown
from recoup.config import Settings

compliance_app = typer.Typer(
    help="The compliance guard: may we contact this person now?", no_args_is_help=True
)


def guard_from(house: Path | None) -> Guard:
    """The shipped packs under the house policy `--house`, else the deployment's
    (RECOUP_COMPLIANCE_HOUSE_FILE, read as the daily run, the worker and the portal read it)."""
    if house is None:
        try:
            configured = Settings().compliance_house_file
        except ValidationError as exc:
            raise fail(f"settings: {exc.errors()[0]['msg']}") from exc
        try:
            return deployment_guard(configured)
        except HouseFileError as exc:
            raise fail(exc.message) from exc
    try:
        data: Any = yaml.safe_load(house.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise fail(f"{house}: cannot read the house policy ({exc})") from exc
    try:
        return load_guard(data)
    except PackError as exc:
        raise fail(f"{house}: {exc}") from exc


@compliance_app.command("check")
def check_command(
    scenario: Annotated[str, typer.Argument(help="a scenario JSON file, or - for standard input")],
    explain_: Annotated[
        bool, typer.Option("--explain", help="tell the decision to a person instead of JSON")
    ] = False,
    lang: Annotated[str, typer.Option(help="language of --explain: en or zh")] = "en",
    house: Annotated[
        Path | None, typer.Option(help="a house policy YAML (default: the configured one)")
    ] = None,
) -> None:
    """Decide one planned contact described as JSON (format: docs/compliance.md). Prints the
    decision as JSON; exit status 0 when allowed, 3 when blocked, 2 when the scenario is invalid."""
    try:
        text = sys.stdin.read() if scenario == "-" else Path(scenario).read_text(encoding="utf-8")
    except OSError as exc:
        raise fail(f"{scenario}: {exc.strerror}", code=2) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(
            f"{scenario}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})", 2
        ) from exc
    guard = guard_from(house)
    try:
        decision = check(guard, data)
    except ScenarioError as exc:
        raise fail(f"{scenario}: {exc}", code=2) from exc
    if explain_:
        console.print(explain(decision, guard, lang), highlight=False, markup=False, soft_wrap=True)
    else:
        sys.stdout.write(json.dumps(decision.to_json(), ensure_ascii=False, indent=2) + "\n")
    raise typer.Exit(0 if decision.allowed else 3)


@compliance_app.command("rules")
def rules_command(
    jurisdiction: Annotated[
        str | None, typer.Option(help="only the rules that apply to this jurisdiction, e.g. US-MA")
    ] = None,
    collector: Annotated[
        str,
        typer.Option(help="who collects: creditor, affiliated_servicer, third_party, debt_buyer"),
    ] = "creditor",
    lang: Annotated[str, typer.Option(help="en or zh")] = "en",
    house: Annotated[Path | None, typer.Option(help="a house policy YAML")] = None,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="every pack as Markdown tables (docs/compliance.md)")
    ] = False,
) -> None:
    """List the rules with their citations and confidence tags."""
    guard = guard_from(house)
    if markdown:
        sys.stdout.write(rules_markdown(guard))
        return
    rules = guard.rules_for(jurisdiction, collector) if jurisdiction else tuple(guard.all_rules())
    table = Table(title=f"rules for {jurisdiction} ({collector})" if jurisdiction else "all rules")
    table.add_column("rule", no_wrap=True)
    for column in ("kind", "rule text", "source", "conf."):
        table.add_column(column, overflow="fold")
    zh = lang.lower().startswith("zh")
    for r in rules:
        off = " (off)" if r.id in guard.house.disable else ""
        table.add_row(
            r.id + off,
            r.kind,
            (r.title_zh if zh and r.title_zh else r.title),
            r.citation,
            r.confidence,
        )
    console.print(table)


@compliance_app.command("calendars")
def calendars_command(
    house: Annotated[Path | None, typer.Option(help="a house policy YAML")] = None,
    since: Annotated[
        str | None, typer.Option(help="look for unknown days from this date (default today)")
    ] = None,
) -> None:
    """List each jurisdiction's holiday and working-day calendars: years covered, sources, days
    not known, and the rules that need them."""
    guard = guard_from(house)
    try:
        start = dt.date.fromisoformat(since) if since else dt.datetime.now(dt.UTC).date()
        calendars.files()
    except ValueError as exc:
        raise fail(f"--since or {calendars.ENV}: {exc}") from exc
    used = calendars.in_use(guard)
    countries = sorted(
        {p.country for p in guard.packs if p.country != "ZZ"}
        | {c for c, _ in calendars.files()}
        | {c for c, _ in used}
    )
    table = Table(title=f"calendars (unknown days looked for from {start.isoformat()})")
    for column in ("country", "calendar", "years covered", "sources", "unknown days", "used by"):
        table.add_column(column, overflow="fold")
    for country in countries:
        for what in (calendars.HOLIDAYS, calendars.WORKDAYS):
            cov = calendars.coverage(country, what, since=start)
            last = cov.years[-1][1] if cov.years else None
            unknown = [d.isoformat() for d in cov.unknown_ahead[:6]]
            if len(cov.unknown_ahead) > 6:
                unknown.append(f"+{len(cov.unknown_ahead) - 6} more")
            if last is not None and last < start.year + 2:
                unknown.append(f"all from {last + 1}-01-01")
            if not cov.years:
                unknown = ["every day"]
            table.add_row(
                country,
                what,
                cov.label(),
                "; ".join(cov.sources) or "none",
                ", ".join(unknown) or "-",
                ", ".join(used.get((country, what), [])) or "-",
            )
    console.print(table)
