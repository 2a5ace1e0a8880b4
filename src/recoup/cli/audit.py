"""`recoup audit ...`: prove the ledger untouched, export what anchors it, and audit what was sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from recoup.audit import contacts as contact_audit
from recoup.audit import ledger
from recoup.audit import service as audit_service
from recoup.cli.common import console, err_console, fail, parse_date, runtime
from recoup.cli.errors import DATABASE_ERRORS

audit_app = typer.Typer(help="The tamper-evident audit ledger.", no_args_is_help=True)


@audit_app.command("verify")
def verify() -> None:
    """Recompute every entry's hash and link and every checkpoint's root and signature; name the
    first broken link, and say how many entries are not yet under a signed checkpoint. Exit status
    0 only when everything holds."""
    rt = runtime()
    with rt.transaction() as session, console.status("verifying the audit ledger"):
        result = audit_service.verify(session)
    tail = (
        f"{result.unanchored:,} entries after the last signed checkpoint"
        + (
            f" ({result.last_checkpoint_at:%Y-%m-%d %H:%M} UTC)"
            if result.last_checkpoint_at
            else ""
        )
        + ": the hash chain alone protects them"
    )
    if result.ok:
        console.print(
            f"[green]ok[/]: {result.entries:,} entries and {result.checkpoints:,} checkpoints verified"
        )
        console.print(tail, markup=False)
        return
    err_console.print(
        f"[bold red]the audit ledger does not verify[/]: first broken link at {result.first_broken}"
    )
    for problem in result.problems[:20]:
        err_console.print(f"  {problem}", markup=False)
    err_console.print(tail, markup=False)
    raise typer.Exit(1)


@audit_app.command("checkpoint")
def checkpoint() -> None:
    """Sign a checkpoint over the entries since the last one (the daily run ends with one; the
    worker and every write sign one when the tail reaches its entries or minutes)."""
    rt = runtime()
    try:
        with rt.transaction() as session:
            row = audit_service.checkpoint(session, clock=rt.clock)
            described = None if row is None else f"{row.first_seq}-{row.last_seq} root {row.root}"
    except DATABASE_ERRORS:
        raise  # a missing or uninitialised database: said in one line by the command group
    except Exception as exc:  # configuration problems reach a person as one line
        raise fail(str(exc)) from exc
    console.print("nothing new to checkpoint" if described is None else f"checkpoint {described}")


@audit_app.command("checkpoints")
def export_checkpoints(
    out: Annotated[
        Path | None, typer.Option(help="Write JSON here instead of standard output")
    ] = None,
) -> None:
    """Export the signed checkpoints and the public key, to anchor them elsewhere (a transparency
    log, a regulator, a public chain)."""
    rt = runtime()
    with rt.transaction() as session:
        rows = audit_service.checkpoints(session)
        signer = audit_service.signer()
        document = {
            "algorithm": "Ed25519 over canonical JSON {first_seq,last_seq,root,prev_root}; "
            "Merkle tree as RFC 6962 over SHA-256 entry hashes",
            "public_key": ledger.public_pem(signer.public),
            "key_id": ledger.key_id(signer.public),
            "checkpoints": [
                {
                    "first_seq": r.first_seq,
                    "last_seq": r.last_seq,
                    "root": r.root,
                    "prev_root": r.prev_root,
                    "signed_at": r.signed_at.isoformat(),
                    "key_id": r.key_id,
                    "signature": r.signature,
                }
                for r in rows
            ],
        }
    text = json.dumps(document, indent=2)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
        console.print(f"{len(rows)} checkpoints written to {out}")
    else:
        typer.echo(text)


@audit_app.command("contacts")
def contacts(
    start: Annotated[
        str | None, typer.Option("--from", help="First day to audit (YYYY-MM-DD, UTC)")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Last day to audit (YYYY-MM-DD, UTC)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON")] = False,
) -> None:
    """Check what was sent against the rule packs again, from the record alone and without the
    compliance guard: hours and rest days, frequency caps, opt-outs, disputes, hardship and
    cease. Lists every breach; exit status 1 when there is one."""
    first = parse_date(start, option="--from")
    last = parse_date(end, option="--to")
    rt = runtime()
    with rt.transaction() as session, console.status("auditing what was sent"):
        audit = contact_audit.audit_contacts(session, start=first, end=last)
    if as_json:
        typer.echo(json.dumps(audit.to_json(), indent=2, ensure_ascii=False))
    else:
        _print_contact_audit(audit)
    if audit.breaches:
        raise typer.Exit(1)


def _print_contact_audit(audit: contact_audit.ContactAudit) -> None:
    period = f"{audit.start or 'the beginning'} to {audit.end or 'now'}"
    summary = (
        f"{audit.contacts:,} collection contacts sent from {period} "
        f"({audit.service:,} service messages not audited)"
    )
    if not audit.breaches:
        console.print(f"[green]ok[/]: {summary}, no breach")
        return
    table = Table(title=f"{len(audit.breaches):,} breaches among {summary}")
    for column in ("contact", "customer", "channel", "sent (UTC)", "rule", "code", "citation"):
        table.add_column(column, overflow="fold")
    table.add_column("what", overflow="fold", ratio=2)
    for b in audit.breaches:
        table.add_row(
            str(b.contact_id),
            str(b.customer_id),
            b.channel,
            b.sent_at.strftime("%Y-%m-%d %H:%M"),
            b.rule,
            b.code,
            f"{b.citation} [{b.confidence}]",
            b.message,
        )
    console.print(table)
