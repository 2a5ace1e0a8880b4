"""`recoup privacy ...`: a person's data, erasure requests and retention."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from recoup.cli.common import console, fail, parse_date, runtime
from recoup.kit.errors import RecoupError
from recoup.ledger.repository import CustomerRepository
from recoup.privacy import service as privacy_service

privacy_app = typer.Typer(
    help="Data-subject rights: export, erasure, retention.", no_args_is_help=True
)


def _customer_id(session: Session, ref: str) -> int:
    repo = CustomerRepository(session)
    customer = repo.by_ref(ref) or (repo.by_id(int(ref)) if ref.isdigit() else None)
    if customer is None:
        raise fail(f"no customer with reference or id {ref!r}")
    return customer.id


@privacy_app.command("export")
def export(
    customer: Annotated[
        str, typer.Argument(help="the wallet's reference for the person, or the id")
    ],
    out: Annotated[Path, typer.Option(help="where to write the JSON document")] = Path(
        "export.json"
    ),
    reason: Annotated[str, typer.Option(help="why (goes on the person's data-access log)")] = (
        "data-subject access request"
    ),
) -> None:
    """Everything held about a person, as one JSON document (PIPL Art. 45, GDPR Art. 15)."""
    rt = runtime()
    try:
        with rt.transaction() as session:
            document = privacy_service.export(
                session, _customer_id(session, customer), actor="cli", reason=reason, clock=rt.clock
            )
    except RecoupError as exc:
        raise fail(exc.message) from exc
    out.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    out.chmod(0o600)
    console.print(
        f"wrote [bold]{out}[/]: {len(document['accounts'])} accounts, {len(document['payments'])} "
        f"payments, {len(document['who_used_my_data'])} data-access entries"
    )


@privacy_app.command("erase")
def erase(
    customer: Annotated[
        str, typer.Argument(help="the wallet's reference for the person, or the id")
    ],
    reason: Annotated[str, typer.Option(help="the request as the person made it")] = (
        "erasure requested by the data subject"
    ),
) -> None:
    """Decide an erasure request: erased now, scheduled for a date, or refused with the ground."""
    rt = runtime()
    try:
        with rt.transaction() as session:
            request = privacy_service.request_erasure(
                session, _customer_id(session, customer), actor="cli", reason=reason, clock=rt.clock
            )
    except RecoupError as exc:
        raise fail(exc.message) from exc
    colour = {"done": "green", "scheduled": "yellow", "refused": "red"}[request.status]
    console.print(
        f"[{colour}]{request.status}[/]" + (f": {request.ground}" if request.ground else "")
    )


@privacy_app.command("retention")
def retention(
    as_of: Annotated[
        str | None, typer.Option(help="the day to apply retention for (default today)")
    ] = None,
) -> None:
    """Erase everyone whose accounts are closed and settled and whose retention period has run,
    and carry out scheduled erasure requests that have come due."""
    rt = runtime()
    day = parse_date(as_of, option="--as-of") or rt.clock.now().date()
    try:
        with rt.transaction() as session:
            report = privacy_service.run_retention(session, as_of=day, clock=rt.clock)
    except RecoupError as exc:
        raise fail(exc.message) from exc
    console.print(
        f"retention as of {day}: {report.erased} people erased, "
        f"{report.requests_done} scheduled requests carried out"
    )
