"""The assistant's conversations handed over to a person: each with every turn (what the debtor
wrote, what the assistant understood and did, what it answered), and a button to mark it resolved
once a person has dealt with it. Reading is a logged view of the debtors' words
(`assistant.flows.handed_over` and `view`); resolving is `assistant.flows.resolve`, which closes the
conversation's tasks."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from recoup.assistant import flows as assistant_flows
from recoup.assistant import service as assistant_service
from recoup.console.base import StaffPage, page_for, read_form, redirect, render
from recoup.http.deps import ClockDep, RowId, SessionDep
from recoup.identity.permissions import Permission as P

router = APIRouter(include_in_schema=False)

KPI_PERIOD = dt.timedelta(days=30)
Handler = Annotated[StaffPage, Depends(page_for(P.conversations_handle))]


@router.get("/console/conversations")
def conversations(
    request: Request, session: SessionDep, clock: ClockDep, staff: Handler
) -> Response:
    waiting = assistant_flows.handed_over(session, actor=staff.principal.actor, clock=clock)
    figures = assistant_service.kpis(session, since=clock.now() - KPI_PERIOD)
    return render(
        request,
        staff,
        "conversations/list.html",
        waiting=waiting,
        kpis=figures,
        days=KPI_PERIOD.days,
    )


@router.get("/console/conversations/{conversation_id}")
def conversation(
    request: Request, conversation_id: RowId, session: SessionDep, clock: ClockDep, staff: Handler
) -> Response:
    shown = assistant_flows.view(session, conversation_id, actor=staff.principal.actor, clock=clock)
    return render(request, staff, "conversations/show.html", shown=shown)


@router.post("/console/conversations/{conversation_id}/resolve")
async def resolve(
    request: Request, conversation_id: RowId, session: SessionDep, clock: ClockDep, staff: Handler
) -> Response:
    await read_form(request, staff)
    assistant_flows.resolve(session, conversation_id, by=staff.principal.actor, clock=clock)
    return redirect("/console/conversations")
