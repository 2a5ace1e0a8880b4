"""Contacts as staff see them: any contact's decision record (why it was planned, what the guard
said at plan and at send time, what was sent, masked, and every change since), and the outbox's
trouble: the contacts whose outcome is unknown and the dead letters, which a supervisor retries.

The record is `contact.service.explain`, the same as `recoup contact explain` and
`GET /v1/contacts/{id}/explanation`; a retry is `contact.service.retry`, as `POST
/v1/contacts/{id}/retry`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from recoup.console.base import StaffPage, page_for, read_form, redirect, render
from recoup.contact import service as contact_service
from recoup.http.deps import ClockDep, RowId, SessionDep
from recoup.identity.permissions import Permission as P

router = APIRouter(include_in_schema=False)

Reader = Annotated[StaffPage, Depends(page_for(P.contacts_read))]
Retrier = Annotated[StaffPage, Depends(page_for(P.contacts_retry))]
SHOWN = 100


@router.get("/console/contacts/{contact_id}")
def decision_record(
    request: Request, contact_id: RowId, session: SessionDep, staff: Reader
) -> Response:
    record = contact_service.explain(session, contact_id)
    return render(request, staff, "contacts/record.html", record=record)


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
