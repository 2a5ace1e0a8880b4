"""The supervisor's queues: each queue's open, taken, done and expired counts today, the load per
agent, the open tasks; reassign a task to an agent (`workbench.flows.reassign`, as the API's
`POST /v1/agent-tasks/{id}/reassign`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from recoup.agents import service as agents_service
from recoup.console.base import StaffPage, page_for, read_form, redirect, render
from recoup.http.deps import ClockDep, RowId, SessionDep, SettingsDep
from recoup.identity.permissions import Permission as P
from recoup.kit.errors import RecoupError, ValidationFailed
from recoup.workbench import flows

router = APIRouter(include_in_schema=False)

Manager = Annotated[StaffPage, Depends(page_for(P.tasks_manage))]
OPEN_SHOWN = 200


def _page(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    staff: StaffPage,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    day = clock.now().astimezone(settings.business_zone).date()
    per_queue, per_agent = agents_service.queues(session, day, clock.now())
    agents = flows.agents_who_work(session)
    return render(
        request,
        staff,
        "supervisor_queues/queues.html",
        status=status,
        day=day,
        queues=per_queue,
        loads=per_agent,
        agents=agents,
        tasks=agents_service.open_tasks_of_day(session, day, limit=OPEN_SHOWN),
        now=clock.now(),
        error=error,
        done=request.query_params.get("done") == "1",
    )


@router.get("/console/queues")
def queues(
    request: Request, session: SessionDep, clock: ClockDep, settings: SettingsDep, staff: Manager
) -> Response:
    return _page(request, session, clock, settings, staff)


@router.post("/console/queues/tasks/{task_id}/reassign")
async def reassign(
    request: Request,
    task_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    staff: Manager,
) -> Response:
    form = await read_form(request, staff)
    raw = form.get("staff_id", "").strip()
    try:
        if raw and (not raw.isdigit() or len(raw) > 18):
            raise ValidationFailed("staff_id: choose an agent")
        with session.begin_nested():
            flows.reassign(
                session,
                task_id,
                int(raw) if raw else None,
                actor=staff.principal.actor,
                clock=clock,
            )
    except RecoupError as exc:
        return _page(
            request,
            session,
            clock,
            settings,
            staff,
            error=str(exc),
            status=exc.status_code if exc.status_code < 500 else 422,
        )
    return redirect("/console/queues?done=1")
