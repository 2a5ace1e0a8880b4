"""The supervisor's inbox: approvals, the cases inbox and the replies inbox.

Every action goes through the service or flow the API calls (`arrangements.flows.decide_approval`,
`cases.flows.reply` and `resolve_case`, `contact.replies.handle`); reading the debtor's words (a
case's text, a reply's body) goes through the flows that note the view in the data-access log.
An error a service raises for one row (four eyes, a case already resolved, an answer already sent
today) is shown on the page beside that row with its status.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from recoup.arrangements import flows as arrangement_flows
from recoup.cases import flows as case_flows
from recoup.console.base import StaffPage, page_for, read_form, redirect, render
from recoup.contact import replies as reply_flows
from recoup.http.deps import ClockDep, RowId, SessionDep
from recoup.identity.permissions import Permission as P
from recoup.kit.errors import RecoupError, ValidationFailed
from recoup.ledger.repository import AccountRepository

router = APIRouter(include_in_schema=False)

Approver = Annotated[StaffPage, Depends(page_for(P.arrangements_approve))]
Resolver = Annotated[StaffPage, Depends(page_for(P.cases_resolve))]
Handler = Annotated[StaffPage, Depends(page_for(P.replies_handle))]

MAX_TEXT = 2_000
KINDS = case_flows.KINDS  # a review of an automated decision too (opened by the debtor only)
STATUSES = ("open", "resolved", "withdrawn")
# The bounds shown beside each kind waiting for approval, in this order (a policy's offer bounds,
# `arrangements.terms.OFFER_BOUNDS`); `_bps` ones are shown as percentages.
BOUNDS_SHOWN = {
    "settlement": ("min_share_bps", "approval_below_bps", "pay_within_days"),
    "plan": ("min_instalments", "max_instalments", "min_instalment_minor", "fee_bps"),
    "extension": ("min_days", "max_days", "fee_bps"),
    "promise": ("max_days", "min_share_bps"),
}


def _text(form: dict[str, str], name: str, *, required: bool, limit: int = 256) -> str | None:
    value = (form.get(name) or "").strip()
    if not value:
        if required:
            raise ValidationFailed(f"{name}: required")
        return None
    if len(value) > limit:
        raise ValidationFailed(f"{name}: at most {limit} characters")
    return value


# --- approvals -----------------------------------------------------------------------------------


def _approvals_page(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    staff: StaffPage,
    *,
    error: str | None = None,
    error_row: int | None = None,
    status: int = 200,
) -> Response:
    waiting = arrangement_flows.approvals(session, clock=clock)
    return render(
        request,
        staff,
        "supervisor/approvals.html",
        status=status,
        waiting=waiting,
        shown=BOUNDS_SHOWN,
        error=error,
        error_row=error_row,
        done=request.query_params.get("done"),
    )


@router.get("/console/approvals")
def approvals(request: Request, session: SessionDep, clock: ClockDep, staff: Approver) -> Response:
    return _approvals_page(request, session, clock, staff)


@router.post("/console/approvals/{arrangement_id}/{decision}")
async def decide(
    request: Request,
    arrangement_id: RowId,
    decision: str,
    session: SessionDep,
    clock: ClockDep,
    staff: Approver,
) -> Response:
    """Approve or refuse (a refusal needs its reason) through `decide_approval`, as the API."""
    form = await read_form(request, staff)
    try:
        if decision not in ("approve", "refuse"):
            raise ValidationFailed("decision: approve or refuse")
        approve = decision == "approve"
        reason = _text(form, "reason", required=not approve)
        arrangement_flows.decide_approval(
            session,
            arrangement_id,
            approve=approve,
            by=staff.principal.actor,
            clock=clock,
            reason=reason,
        )
    except RecoupError as exc:
        session.rollback()
        return _approvals_page(
            request,
            session,
            clock,
            staff,
            error=str(exc),
            error_row=arrangement_id,
            status=exc.status_code,
        )
    done = "approved" if approve else "refused"
    if request.headers.get("hx-request") == "true":  # htmx: the card becomes the outcome
        return _handled(request, staff, f"approval-{arrangement_id}", f"supervisor.done_{done}")
    return redirect(f"/console/approvals?done={done}")


# --- cases ---------------------------------------------------------------------------------------


@router.get("/console/cases")
def cases(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    staff: Resolver,
    kind: Annotated[str | None, Query(max_length=16)] = None,
    status: Annotated[str | None, Query(max_length=16)] = "open",
) -> Response:
    kind = kind or None
    status = status or None
    if kind is not None and kind not in KINDS:
        raise ValidationFailed(f"kind: one of {', '.join(KINDS)}")
    if status is not None and status not in STATUSES:
        raise ValidationFailed(f"status: one of {', '.join(STATUSES)}")
    listed = case_flows.inbox(
        session, kind=kind, status=status, clock=clock, actor=staff.principal.actor
    )
    return render(
        request,
        staff,
        "supervisor/cases.html",
        cases=listed,
        kind=kind or "",
        status_filter=status or "",
        kinds=KINDS,
        statuses=STATUSES,
    )


def _case_page(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    staff: StaffPage,
    case_id: int,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    found = case_flows.view(session, case_id, clock=clock, actor=staff.principal.actor)
    accounts = AccountRepository(session)
    if found.case.account_id:
        shown = [a for a in [accounts.get(found.case.account_id)] if a is not None]
    else:
        shown = list(accounts.open_of_customer(found.case.customer_id))
    return render(
        request,
        staff,
        "supervisor/case.html",
        status=status,
        item=found,
        accounts=shown,
        replies=case_flows.REPLIES,
        errors=errors or {},
        done=request.query_params.get("done"),
    )


@router.get("/console/cases/{case_id}")
def case(
    request: Request, case_id: RowId, session: SessionDep, clock: ClockDep, staff: Resolver
) -> Response:
    return _case_page(request, session, clock, staff, case_id)


@router.post("/console/cases/{case_id}/reply")
async def reply(
    request: Request, case_id: RowId, session: SessionDep, clock: ClockDep, staff: Resolver
) -> Response:
    form = await read_form(request, staff)
    try:
        case_flows.reply(
            session,
            case_id,
            template=form.get("template", ""),
            by=staff.principal.actor,
            clock=clock,
        )
    except RecoupError as exc:
        session.rollback()
        return _case_page(
            request,
            session,
            clock,
            staff,
            case_id,
            errors={"template": str(exc)},
            status=exc.status_code,
        )
    return redirect(f"/console/cases/{case_id}?done=replied")


@router.post("/console/cases/{case_id}/resolve")
async def resolve(
    request: Request, case_id: RowId, session: SessionDep, clock: ClockDep, staff: Resolver
) -> Response:
    form = await read_form(request, staff)
    try:
        resolution = _text(form, "resolution", required=True, limit=MAX_TEXT)
        assert resolution is not None
        case_flows.resolve_case(
            session, case_id, resolution=resolution, by=staff.principal.actor, clock=clock
        )
    except RecoupError as exc:
        session.rollback()
        return _case_page(
            request,
            session,
            clock,
            staff,
            case_id,
            errors={"resolution": str(exc)},
            status=exc.status_code,
        )
    return redirect(f"/console/cases/{case_id}?done=resolved")


# --- replies -------------------------------------------------------------------------------------


def _replies_page(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    staff: StaffPage,
    *,
    error: str | None = None,
    error_row: int | None = None,
    status: int = 200,
) -> Response:
    listed = reply_flows.inbox(session, actor=staff.principal.actor, clock=clock)
    return render(
        request,
        staff,
        "supervisor/replies.html",
        status=status,
        replies=listed,
        reasons=case_flows.REASONS,
        error=error,
        error_row=error_row,
        done=request.query_params.get("done"),
    )


@router.get("/console/replies")
def replies(request: Request, session: SessionDep, clock: ClockDep, staff: Handler) -> Response:
    return _replies_page(request, session, clock, staff)


def _case_choice(value: str) -> tuple[str, str]:
    """`kind:reason` from the "make a case" list, checked against the kinds' reasons."""
    kind, _, reason = value.partition(":")
    if kind not in case_flows.REASONS or reason not in case_flows.REASONS[kind]:
        raise ValidationFailed("case: choose a kind and reason from the list")
    return kind, reason


@router.post("/console/replies/{task_id}")
async def handle_reply(
    request: Request, task_id: RowId, session: SessionDep, clock: ClockDep, staff: Handler
) -> Response:
    form = await read_form(request, staff)
    action = form.get("action", "")
    try:
        extra: dict[str, Any] = {}
        if action == "case":
            extra["kind"], extra["reason"] = _case_choice(form.get("case", ""))
        reply_flows.handle(session, task_id, action, by=staff.principal.actor, clock=clock, **extra)
    except RecoupError as exc:
        session.rollback()
        return _replies_page(
            request,
            session,
            clock,
            staff,
            error=str(exc),
            error_row=task_id,
            status=exc.status_code,
        )
    if request.headers.get("hx-request") == "true":  # htmx: the card becomes the outcome
        return _handled(request, staff, f"reply-{task_id}", f"supervisor.handled_{action}")
    return redirect(f"/console/replies?done={action}")


def _handled(request: Request, staff: StaffPage, target: str, key: str) -> Response:
    """What htmx swaps in for a handled card (without JavaScript the page is simply reloaded)."""
    return render(request, staff, "supervisor/_handled.html", target=target, message_key=key)
