"""The agent's workbench: `/console/work` (next account, the account in hand, today's count) and
account 360 (`/console/accounts/{id}`) with click-to-call, the wrap-up, offers and notes.

Every action goes through the flow the API calls: `workbench.flows` (next account, wrap-up,
notes), `contact.flows.dial` (the dial endpoint's), `arrangements.flows.make` (the arrangements
endpoint's).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from recoup.agents import service as agents_service
from recoup.arrangements import flows as arrangement_flows
from recoup.assistant import service as assistant_service
from recoup.audit import service as audit_service
from recoup.cases.flows import REASONS
from recoup.console.base import StaffPage, page_for, read_form, redirect, render
from recoup.contact import flows as contact_flows
from recoup.http.deps import ClockDep, RowId, SessionDep, SettingsDep
from recoup.identity.permissions import Permission as P
from recoup.kit.clock import Clock
from recoup.kit.errors import RecoupError, ValidationFailed
from recoup.kit.money import to_minor
from recoup.ledger import service as ledger_service
from recoup.workbench import flows

router = APIRouter(include_in_schema=False)

Worker = Annotated[StaffPage, Depends(page_for(P.tasks_work))]
Reader = Annotated[StaffPage, Depends(page_for(P.accounts_read))]
Caller = Annotated[StaffPage, Depends(page_for(P.calls_place))]
NoteWriter = Annotated[StaffPage, Depends(page_for(P.notes_write))]
OfferMaker = Annotated[StaffPage, Depends(page_for(P.arrangements_write))]
WORKER = "console"
MAX_FIELD = 2_000


def _desk(settings: Any) -> flows.Desk:
    return flows.Desk.from_settings(settings, WORKER)


@router.get("/console/work")
def work(
    request: Request, session: SessionDep, clock: ClockDep, settings: SettingsDep, staff: Worker
) -> Response:
    desk = _desk(settings)
    held = agents_service.in_hand(session, staff.user_id, clock.now())
    skipped = request.query_params.get("skipped", "")
    return render(
        request,
        staff,
        "agent/work.html",
        held=held[0] if held else None,
        done_today=agents_service.done_today(session, staff.user_id, desk.today(clock)),
        nothing=request.query_params.get("none") == "1",
        skipped=int(skipped) if skipped.isdigit() and len(skipped) < 7 else 0,
        lock_minutes=int(agents_service.LOCK.total_seconds() // 60),
        wrapped=bool(request.query_params.get("wrapped")),
    )


@router.post("/console/work/next")
async def take_next(
    request: Request, session: SessionDep, clock: ClockDep, settings: SettingsDep, staff: Worker
) -> Response:
    await read_form(request, staff)
    taken = flows.take_next(
        session, staff.user_id, actor=staff.principal.actor, desk=_desk(settings), clock=clock
    )
    if taken.task is None:
        return redirect(f"/console/work?none=1&skipped={taken.skipped}")
    return redirect(f"/console/accounts/{taken.task.account_id}")


def _account_page(
    request: Request,
    session: SessionDep,
    clock: Clock,
    settings: Any,
    staff: StaffPage,
    account_id: int,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> Response:
    desk = _desk(settings)
    view = flows.account_view(session, account_id, desk=desk, clock=clock)
    audit_service.log_access(
        session,
        customer_id=view.customer_id,
        actor=staff.principal.actor,
        kind="view",
        fields=["name", "phones"],
        reason="console: account 360 (masked)",
        clock=clock,
    )
    held = [
        t
        for t in agents_service.in_hand(session, staff.user_id, clock.now())
        if t.account_id == account_id
    ]
    return render(
        request,
        staff,
        "agent/account.html",
        status=status,
        v=view,
        task=held[0] if held else None,
        outcomes=flows.OUTCOMES,
        reasons=REASONS,
        dial_configured=desk.dial_configured,
        errors=errors or {},
        values=values or {},
        message=message or request.query_params.get("done", ""),
        today=desk.today(clock),
        # The assistant's conversations on this account: links only (the words are behind the
        # conversation's own page, its own permission and its logged view).
        conversations=assistant_service.of_account(session, account_id)
        if staff.can(P.conversations_handle)
        else [],
    )


@router.get("/console/accounts/{account_id}")
def account(
    request: Request,
    account_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    staff: Reader,
) -> Response:
    return _account_page(request, session, clock, settings, staff, account_id)


@router.post("/console/accounts/{account_id}/call")
async def call(
    request: Request,
    account_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    staff: Caller,
) -> Response:
    """Click-to-call: the dial endpoint's flow, for the task the agent holds on this account."""
    form = await read_form(request, staff)
    extension = form.get("extension", "").strip()
    now = clock.now()
    held = [
        t for t in agents_service.in_hand(session, staff.user_id, now) if t.account_id == account_id
    ]
    errors: dict[str, str] = {}
    if not held:
        errors["call"] = "no_task"
    elif (
        not extension
        or len(extension) > 64
        or not all(c.isalnum() or c in "+*#._-" for c in extension)
    ):
        errors["extension"] = "extension"
    if errors:
        return _account_page(
            request,
            session,
            clock,
            settings,
            staff,
            account_id,
            errors=errors,
            values=dict(form),
            status=422,
        )
    desk = _desk(settings)
    contact = contact_flows.dial(
        session,
        held[0].id,
        agent=extension,
        actor=staff.principal.actor,
        clock=clock,
        config=desk.config,
        guard=desk.guard,
        channels=list(desk.channels),
    )
    return redirect(f"/console/accounts/{account_id}?call={contact.id}&done=called")


def _date(value: str, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError as exc:
        raise ValidationFailed(f"{name}: a date (YYYY-MM-DD)") from exc


def _time(value: str, name: str) -> dt.time | None:
    if not value:
        return None
    try:
        return dt.time.fromisoformat(value[:8])
    except ValueError as exc:
        raise ValidationFailed(f"{name}: a time (HH:MM)") from exc


def _wrap_up_of(form: dict[str, str], currency: str, desk: flows.Desk) -> flows.WrapUp:
    """The wrap-up form as the flow takes it; a field that does not read is named."""
    for name, value in form.items():
        if len(value) > MAX_FIELD:
            raise ValidationFailed(f"{name}: at most {MAX_FIELD:,} characters")
    amount = form.get("amount", "").strip()
    try:
        amount_minor = to_minor(amount, currency) if amount else None
    except ValueError as exc:
        raise ValidationFailed(f"amount: {exc}") from exc
    call_at = None
    if form.get("call_at"):
        try:
            local = dt.datetime.fromisoformat(form["call_at"][:16])
        except ValueError as exc:
            raise ValidationFailed("call_at: a date and time") from exc
        call_at = local.replace(tzinfo=desk.business_zone) if local.tzinfo is None else local
    contact = form.get("contact_id", "").strip()
    if contact and (not contact.isdigit() or len(contact) > 18):
        raise ValidationFailed("contact_id: a call's number")
    return flows.WrapUp(
        outcome=form.get("outcome", ""),
        contact_id=int(contact) if contact else None,
        amount_minor=amount_minor,
        on=_date(form.get("date", ""), "date"),
        reason=form.get("reason") or None,
        words=form.get("words") or None,
        call_at=call_at,
        hours_from=_time(form.get("hours_from", ""), "hours_from"),
        hours_to=_time(form.get("hours_to", ""), "hours_to"),
        consent_until=_date(form.get("consent_until", ""), "consent_until"),
        note=form.get("note") or None,
    )


def _field_of(message: str) -> str:
    head = message.split(":", 1)[0].strip()
    return head if head.replace("_", "").isalnum() and len(head) < 20 else "form"


@router.post("/console/tasks/{task_id}/wrap-up")
async def wrap_up(
    request: Request,
    task_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    staff: Worker,
) -> Response:
    form = await read_form(request, staff)
    task = agents_service.get_many(session, [task_id])[task_id]
    account = ledger_service.get_account(session, task.account_id)
    desk = _desk(settings)
    try:
        data = _wrap_up_of(form, account.currency, desk)
        with session.begin_nested():
            done = flows.wrap_up(
                session,
                task_id,
                staff.user_id,
                data,
                actor=staff.principal.actor,
                desk=desk,
                clock=clock,
            )
    except RecoupError as exc:
        message = str(exc)
        return _account_page(
            request,
            session,
            clock,
            settings,
            staff,
            account.id,
            errors={_field_of(message): message},
            values=dict(form),
            status=exc.status_code if exc.status_code < 500 else 422,
        )
    what = "promise" if done.arrangement_id else data.outcome
    return redirect(f"/console/work?wrapped={what}")


@router.post("/console/tasks/{task_id}/release")
async def release(
    request: Request, task_id: RowId, session: SessionDep, clock: ClockDep, staff: Worker
) -> Response:
    await read_form(request, staff)
    agents_service.release(
        session, task_id, staff.user_id, clock.now(), actor=staff.principal.actor
    )
    return redirect("/console/work")


@router.post("/console/accounts/{account_id}/notes")
async def add_note(
    request: Request,
    account_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    staff: NoteWriter,
) -> Response:
    form = await read_form(request, staff)
    try:
        with session.begin_nested():
            flows.add_note(
                session, account_id, form.get("text", ""), actor=staff.principal.actor, clock=clock
            )
    except ValidationFailed as exc:
        return _account_page(
            request,
            session,
            clock,
            settings,
            staff,
            account_id,
            errors={"text": str(exc)},
            values=dict(form),
            status=422,
        )
    return redirect(f"/console/accounts/{account_id}?done=note#notes")


OFFER_KINDS = ("plan", "extension", "settlement")


@router.post("/console/accounts/{account_id}/offers")
async def make_offer(
    request: Request,
    account_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    staff: OfferMaker,
) -> Response:
    """A plan, an extension or a settlement within what the policy offers, through the flow of
    `POST /v1/accounts/{id}/arrangements`: a settlement below the policy's share waits for a
    supervisor (`awaiting_approval`)."""
    form = await read_form(request, staff)
    account = ledger_service.get_account(session, account_id)
    kind = form.get("kind", "")
    try:
        if kind not in OFFER_KINDS:
            raise ValidationFailed(f"kind: one of {', '.join(OFFER_KINDS)}")
        amount = form.get("offer_amount", "").strip()
        try:
            amount_minor = to_minor(amount, account.currency) if amount else None
        except ValueError as exc:
            raise ValidationFailed(f"offer_amount: {exc}") from exc
        numbers: dict[str, int | None] = {}
        for name, top in (("instalments", 120), ("days", 365)):
            raw = form.get(name, "").strip()
            if raw and (not raw.isdigit() or not 1 <= int(raw[:6]) <= top):
                raise ValidationFailed(f"{name}: a whole number from 1 to {top}")
            numbers[name] = int(raw) if raw else None
        budget = form.get("monthly_budget", "").strip()
        try:
            budget_minor = to_minor(budget, account.currency) if budget else None
        except ValueError as exc:
            raise ValidationFailed(f"monthly_budget: {exc}") from exc
        with session.begin_nested():
            made = arrangement_flows.make(
                session,
                account,
                kind,
                amount_minor=amount_minor if kind == "settlement" else None,
                instalments=numbers["instalments"] if kind == "plan" else None,
                monthly_budget=budget_minor if kind == "plan" else None,
                days=numbers["days"] if kind == "extension" else None,
                made_by=staff.principal.actor,
                channel="agent",
                clock=clock,
            )
    except RecoupError as exc:
        message = str(exc)
        field = _field_of(message)
        return _account_page(
            request,
            session,
            clock,
            settings,
            staff,
            account_id,
            errors={f"offer_{field}" if field != "form" else "offer": message},
            values=dict(form),
            status=exc.status_code if exc.status_code < 500 else 422,
        )
    return redirect(f"/console/accounts/{account_id}?done=offer_{made.status}#offers")
