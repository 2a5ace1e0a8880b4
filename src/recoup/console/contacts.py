"""Contacts as staff see them: any contact's decision record (why it was planned, what the guard
said at plan and at send time, what was sent, masked, and every change since), and the outbox's
trouble: the contacts whose outcome is unknown and the dead letters, which a supervisor retries.

The record is `contact.service.explain`, the same as `recoup contact explain` and
`GET /v1/contacts/{id}/explanation`; a retry is `contact.service.retry`, as `POST
/v1/contacts/{id}/retry`.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from recoup.console.base import StaffPage, page_for, read_form, redirect, render
from recoup.contact import service as contact_service
from recoup.http.deps import ClockDep, RowId, SessionDep
from recoup.identity.permissions import Permission as P
from recoup.kit.masking import mask_name
from recoup.ledger import service as ledger_service

router = APIRouter(include_in_schema=False)

Reader = Annotated[StaffPage, Depends(page_for(P.contacts_read))]
Retrier = Annotated[StaffPage, Depends(page_for(P.contacts_retry))]
SHOWN = 100


@router.get("/console/contacts/{contact_id}")
def decision_record(
    request: Request, contact_id: RowId, session: SessionDep, staff: Reader
) -> Response:
    """Everything `recoup contact explain` says, laid out: the contact, the policy and segment,
    the guard at plan time (packs, zones, reasons with citations and counters), what was sent
    (the name masked) and its history with the guard at send time; the customer masked, revealed
    only through the audited reveal."""
    record = contact_service.explain(session, contact_id)
    account = ledger_service.get_account(session, record["contact"]["account_id"])
    customer = ledger_service.get_customer(session, account.customer_id)
    # The decision keeps the guard's reason codes at plan time (a list; empty when allowed); the
    # full reasons, with rules and citations, are in the history's send-time checks.
    at_plan = (record.get("decision") or {}).get("guard_at_plan")
    guard = at_plan if isinstance(at_plan, dict) else {"codes": list(at_plan or [])}
    # Times shown in the reader's locale and the business zone, not as ISO text.
    scheduled = record["contact"]["scheduled_at"]
    record["contact"]["scheduled_at"] = dt.datetime.fromisoformat(scheduled) if scheduled else None
    for event in record["history"]:
        event["at"] = dt.datetime.fromisoformat(event["at"])
    return render(
        request,
        staff,
        "contacts/record.html",
        record=record,
        guard=guard,
        account=account,
        customer_id=customer.id,
        customer_name=mask_name(customer.name),
        details=json.dumps,
    )


@router.get("/console/outbox")
def outbox(request: Request, session: SessionDep, clock: ClockDep, staff: Retrier) -> Response:
    today = clock.now().astimezone(request.app.state.settings.business_zone).date()
    return render(
        request,
        staff,
        "contacts/outbox.html",
        today=today,
        counts=sorted(contact_service.status_counts(session, today).items()),
        in_doubt=contact_service.in_doubt(session, limit=SHOWN),
        dead=contact_service.dead_letters(session, limit=SHOWN),
        shown=SHOWN,
    )


@router.post("/console/contacts/{contact_id}/retry")
async def retry(
    request: Request, contact_id: RowId, session: SessionDep, clock: ClockDep, staff: Retrier
) -> Response:
    await read_form(request, staff)
    contact_service.retry(session, contact_id, actor=staff.principal.actor, clock=clock)
    return redirect("/console/outbox")
