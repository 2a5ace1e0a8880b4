"""The compliance officer's pages (`/console/compliance/...`): blocks and deferrals by rule over
time, any contact's decision record, QA sampling and review, the contact audit run from the page,
the audit ledger's verification and checkpoints, a customer's consents and opt-outs with their
evidence, and data-subject requests.

Every action goes through the service the API calls (`quality.service` for QA, `privacy.service`
for consents and requests); the reads are the services' own (`analytics.service`,
`contact.service.explain`, `audit.contacts`, `audit.service`).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from recoup.analytics import fairness as fairness_service
from recoup.analytics import schemas as analytics_schemas
from recoup.analytics import service as analytics_service
from recoup.audit import contacts as contact_audit
from recoup.audit import service as audit_service
from recoup.console.base import HEADERS, StaffPage, page_for, read_form, redirect, render
from recoup.http.deps import ClockDep, RowId, SessionDep
from recoup.identity.permissions import Permission as P
from recoup.kit.errors import NotFound, RecoupError, ValidationFailed
from recoup.kit.masking import mask_name
from recoup.ledger import service as ledger_service
from recoup.privacy import service as privacy_service
from recoup.quality import service as qa_service

router = APIRouter(include_in_schema=False)

Auditor = Annotated[StaffPage, Depends(page_for(P.audit_read))]
Analyst = Annotated[StaffPage, Depends(page_for(P.analytics_read))]
Reviewer = Annotated[StaffPage, Depends(page_for(P.qa_review))]
Reader = Annotated[StaffPage, Depends(page_for(P.customers_read))]
ConsentWriter = Annotated[StaffPage, Depends(page_for(P.consents_write))]
Requests = Annotated[StaffPage, Depends(page_for(P.privacy_requests))]
DateQ = Annotated[str | None, Query(max_length=10)]

# The contact audit reads every contact sent in the period and the lookback before it: a page
# keeps the period short so the request stays short (the command has no bound).
AUDIT_DAYS = 31
HELD_DAYS = 366
FAIRNESS_DAYS = 366
QA_DAYS = qa_service.MAX_DAYS


def _day(value: str | None, field: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"{field}: a date YYYY-MM-DD") from None


def _period(
    start: str | None, end: str | None, *, today: dt.date, days: int, default: int
) -> tuple[dt.date, dt.date]:
    last = _day(end, "to") or today
    first = _day(start, "from") or last - dt.timedelta(days=default - 1)
    if first > last:
        raise ValidationFailed("from: on or before the end of the period")
    if (last - first).days + 1 > days:
        raise ValidationFailed(f"to: a period of at most {days} days")
    return first, last


# --- overview: blocks and deferrals ----------------------------------------------------------


@router.get("/console/compliance")
def overview(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    staff: Auditor,
    start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    by: Annotated[str, Query(max_length=4)] = "day",
) -> Response:
    """Blocked and deferred contacts by rule and reason code, per day or week, with a chart."""
    error = None
    rows: list[analytics_schemas.HeldOverTime] = []
    first, last = clock.now().date() - dt.timedelta(days=13), clock.now().date()
    try:
        first, last = _period(start, end, today=clock.now().date(), days=HELD_DAYS, default=14)
        if by not in ("day", "week"):
            raise ValidationFailed("by: day or week")
        period = analytics_schemas.Period(from_date=first, to_date=last)
        rows = analytics_service.held_over_time(session, period, by=by)
    except ValidationFailed as exc:
        error = exc.message
    periods = sorted({r.period_start for r in rows})
    rules = sorted({f"{r.rule} {r.code}".strip() for r in rows})
    series = {
        rule: [
            sum(
                r.contacts
                for r in rows
                if r.period_start == p and f"{r.rule} {r.code}".strip() == rule
            )
            for p in periods
        ]
        for rule in rules
    }
    chart = {"labels": [p.isoformat() for p in periods], "series": series}
    return render(
        request,
        staff,
        "compliance/overview.html",
        status=422 if error else 200,
        rows=rows,
        start=first,
        end=last,
        by=by if by in ("day", "week") else "day",
        error=error,
        # Inside <script type="application/json">: no "<" may close the element early.
        chart=json.dumps(chart, ensure_ascii=False).replace("<", "\\u003c"),
        total=sum(r.contacts for r in rows),
    )


# --- a contact's decision record -------------------------------------------------------------


@router.get("/console/compliance/contacts")
def find_contact(staff: Auditor, contact_id: Annotated[int, Query(ge=1, le=2**63 - 1)]) -> Response:
    return redirect(f"/console/contacts/{contact_id}")


@router.get("/console/compliance/contacts/{contact_id}")
def decision_record(contact_id: RowId, staff: Auditor) -> Response:
    """The record lives at `/console/contacts/{id}` (every role that reads contacts opens it)."""
    return redirect(f"/console/contacts/{contact_id}")


# --- the contact audit -----------------------------------------------------------------------


@router.get("/console/compliance/audit")
def contact_audit_page(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    staff: Auditor,
    start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    run: Annotated[str | None, Query(max_length=4)] = None,
) -> Response:
    """`recoup audit contacts` over a period of at most `AUDIT_DAYS` days: the breaches found in
    what was sent, checked without the guard (`audit.contacts`)."""
    error, result = None, None
    today = clock.now().date()
    first, last = today - dt.timedelta(days=6), today
    try:
        first, last = _period(start, end, today=today, days=AUDIT_DAYS, default=7)
        if run:
            result = contact_audit.audit_contacts(session, start=first, end=last)
    except ValidationFailed as exc:
        error = exc.message
    return render(
        request,
        staff,
        "compliance/audit.html",
        status=422 if error else 200,
        start=first,
        end=last,
        result=result,
        error=error,
        max_days=AUDIT_DAYS,
    )


# --- the audit ledger ------------------------------------------------------------------------


@router.get("/console/compliance/ledger")
def ledger_page(
    request: Request,
    session: SessionDep,
    staff: Auditor,
    verify: Annotated[str | None, Query(max_length=4)] = None,
) -> Response:
    """The chain's head and signed checkpoints; "verify" recomputes every hash and signature."""
    checked = audit_service.verify(session) if verify else None
    return render(
        request,
        staff,
        "compliance/ledger.html",
        head=audit_service.head(session),
        checkpoints=list(reversed(audit_service.checkpoints(session)))[:100],
        checked=checked,
    )


@router.get("/console/compliance/ledger/checkpoints/{checkpoint_id}.json")
def checkpoint_json(checkpoint_id: RowId, session: SessionDep, staff: Auditor) -> Response:
    """A checkpoint's signed statement, signature, public key and leaves, for the regulator."""
    document = audit_service.checkpoint_document(session, checkpoint_id)
    return Response(
        json.dumps(document, indent=2),
        media_type="application/json",
        headers={
            **HEADERS,
            "Content-Disposition": f'attachment; filename="recoup-checkpoint-{checkpoint_id}.json"',
        },
    )


# --- QA sampling -----------------------------------------------------------------------------


@router.get("/console/compliance/qa")
def qa_page(request: Request, session: SessionDep, clock: ClockDep, staff: Reviewer) -> Response:
    today = clock.now().date()
    return render(
        request,
        staff,
        "compliance/qa.html",
        samples=qa_service.samples(session, limit=50),
        results=qa_service.results(session, limit=50),
        start=today - dt.timedelta(days=6),
        end=today,
        errors={},
        form={},
        max_days=QA_DAYS,
        max_size=qa_service.MAX_SIZE,
    )


@router.post("/console/compliance/qa/samples")
async def qa_draw(
    request: Request, session: SessionDep, clock: ClockDep, staff: Reviewer
) -> Response:
    form = await read_form(request, staff)
    try:
        start = _day(form.get("from"), "from")
        end = _day(form.get("to"), "to")
        if start is None or end is None:
            raise ValidationFailed("from: the period's first and last day")
        size, seed = _integer(form.get("size", ""), "size"), _integer(form.get("seed", ""), "seed")
        sample = qa_service.draw_sample(
            session,
            start=start,
            end=end,
            size=size,
            seed=seed,
            actor=staff.principal.actor,
            clock=clock,
        )
    except ValidationFailed as exc:
        today = clock.now().date()
        field = exc.message.split(":")[0]
        return render(
            request,
            staff,
            "compliance/qa.html",
            status=422,
            samples=qa_service.samples(session, limit=50),
            results=qa_service.results(session, limit=50),
            start=today - dt.timedelta(days=6),
            end=today,
            errors={field: exc.message},
            form=dict(form),
            max_days=QA_DAYS,
            max_size=qa_service.MAX_SIZE,
        )
    return redirect(f"/console/compliance/qa/samples/{sample.id}")


def _integer(value: str, field: str) -> int:
    text = value.strip()
    if not text.isdigit() or len(text) > 12:
        raise ValidationFailed(f"{field}: a whole number")
    return int(text)


@router.get("/console/compliance/qa/samples/{sample_id}")
def qa_sample(request: Request, sample_id: RowId, session: SessionDep, staff: Reviewer) -> Response:
    sample, items = qa_service.get_sample(session, sample_id)
    return render(
        request,
        staff,
        "compliance/qa_sample.html",
        sample=sample,
        items=items,
        checklist=qa_service.CHECKLIST,
        answers=qa_service.ANSWERS,
        errors={},
        error_item=None,
    )


@router.post("/console/compliance/qa/reviews/{review_id}")
async def qa_review(
    request: Request, review_id: RowId, session: SessionDep, clock: ClockDep, staff: Reviewer
) -> Response:
    form = await read_form(request, staff)
    item = qa_service.get_review(session, review_id)
    try:
        qa_service.review(
            session,
            review_id,
            checks={key: form.get(key, "") for key in qa_service.CHECKLIST},
            findings=form.get("findings", ""),
            actor=staff.principal.actor,
            clock=clock,
        )
    except ValidationFailed as exc:
        sample, items = qa_service.get_sample(session, item.sample_id)
        return render(
            request,
            staff,
            "compliance/qa_sample.html",
            status=422,
            sample=sample,
            items=items,
            checklist=qa_service.CHECKLIST,
            answers=qa_service.ANSWERS,
            errors={exc.message.split(":")[0].removeprefix("checks."): exc.message},
            error_item=review_id,
        )
    return redirect(f"/console/compliance/qa/samples/{item.sample_id}#item-{review_id}")


# --- consents and opt-outs per customer ------------------------------------------------------


def _customer_page(
    request: Request,
    session: SessionDep,
    staff: StaffPage,
    customer_id: int,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    clock: Any,
) -> Response:
    customer = ledger_service.get_customer(session, customer_id)
    now = clock.now()
    consents = privacy_service.consents_of(session, customer.id)
    return render(
        request,
        staff,
        "compliance/customer.html",
        status=status,
        customer_id=customer.id,
        customer_name=mask_name(customer.name),
        jurisdiction=customer.jurisdiction,
        consents=[(c, privacy_service.in_force(c, now)) for c in consents],
        opt_outs=privacy_service.opt_outs_of(session, customer.id),
        erasures=privacy_service.erasure_requests(session, customer.id)
        if staff.can(P.privacy_requests)
        else [],
        kinds=privacy_service.KINDS,
        channels=privacy_service.CHANNELS,
        errors=errors or {},
        form=form or {},
    )


@router.get("/console/compliance/customers")
def find_customer(
    staff: Reader, customer_id: Annotated[int, Query(ge=1, le=2**63 - 1)]
) -> Response:
    return redirect(f"/console/compliance/customers/{customer_id}")


@router.get("/console/compliance/customers/{customer_id}")
def customer_consents(
    request: Request, customer_id: RowId, session: SessionDep, clock: ClockDep, staff: Reader
) -> Response:
    """A customer's consents (in force or not) and opt-outs, each with its source and evidence."""
    return _customer_page(request, session, staff, customer_id, clock=clock)


@router.post("/console/compliance/customers/{customer_id}/consents")
async def consent_record(
    request: Request,
    customer_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    staff: ConsentWriter,
) -> Response:
    """Record a consent through `privacy.service.record_consent`, as `POST .../consents` does."""
    form = await read_form(request, staff)
    try:
        expires = _day(form.get("expires"), "expires_at")
        privacy_service.record_consent(
            session,
            customer_id,
            purpose=form.get("kind", ""),
            channel=form.get("channel") or None,
            scope={
                "from": form.get("from") or None,
                "to": form.get("to") or None,
                "account": form.get("account") or None,
            },
            evidence=form.get("evidence", ""),
            expires_at=dt.datetime(expires.year, expires.month, expires.day, tzinfo=dt.UTC)
            if expires
            else None,
            source="agent",
            actor=staff.principal.actor,
            clock=clock,
        )
    except ValidationFailed as exc:
        field = exc.message.split(":")[0].removeprefix("scope.")
        return _customer_page(
            request,
            session,
            staff,
            customer_id,
            status=422,
            errors={field: exc.message},
            form=dict(form),
            clock=clock,
        )
    return redirect(f"/console/compliance/customers/{customer_id}")


@router.post("/console/compliance/customers/{customer_id}/consents/{consent_id}/withdraw")
async def consent_withdraw(
    request: Request,
    customer_id: RowId,
    consent_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    staff: ConsentWriter,
) -> Response:
    await read_form(request, staff)
    privacy_service.withdraw_consent(
        session, consent_id, customer_id=customer_id, actor=staff.principal.actor, clock=clock
    )
    return redirect(f"/console/compliance/customers/{customer_id}")


# --- data-subject requests -------------------------------------------------------------------


@router.get("/console/compliance/privacy")
def privacy_page(request: Request, staff: Requests) -> Response:
    return render(request, staff, "compliance/privacy.html", errors={}, form={}, decided=None)


def _customer_of(form: dict[str, str]) -> int:
    text = form.get("customer_id", "").strip()
    if not text.isdigit() or not 1 <= int(text) <= 2**63 - 1:
        raise ValidationFailed("customer_id: a customer's number")
    return int(text)


def _reason_of(form: dict[str, str]) -> str:
    reason = form.get("reason", "").strip()
    if not 5 <= len(reason) <= 256:
        raise ValidationFailed("reason: the request as the person made it (5 to 256 characters)")
    return reason


@router.post("/console/compliance/privacy/export")
async def privacy_export(
    request: Request, session: SessionDep, clock: ClockDep, staff: Requests
) -> Response:
    """The person's export (`privacy.service.export`, as `POST /v1/customers/{id}/export`), as a
    JSON download to hand to them; it goes on their data-access log with the reason."""
    form = await read_form(request, staff)
    try:
        customer_id, reason = _customer_of(form), _reason_of(form)
        document = privacy_service.export(
            session, customer_id, actor=staff.principal.actor, reason=reason, clock=clock
        )
    except (ValidationFailed, NotFound) as exc:
        return _privacy_error(request, staff, exc, form)
    return Response(
        json.dumps(document, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={
            **HEADERS,
            "Content-Disposition": f'attachment; filename="recoup-export-{customer_id}.json"',
        },
    )


@router.post("/console/compliance/privacy/erasure")
async def privacy_erasure(
    request: Request, session: SessionDep, clock: ClockDep, staff: Requests
) -> Response:
    """An erasure request decided at once (`privacy.service.request_erasure`): done, scheduled
    with the date, or refused with the legal ground."""
    form = await read_form(request, staff)
    try:
        customer_id, reason = _customer_of(form), _reason_of(form)
        decided = privacy_service.request_erasure(
            session, customer_id, actor=staff.principal.actor, reason=reason, clock=clock
        )
    except (ValidationFailed, NotFound) as exc:
        return _privacy_error(request, staff, exc, form)
    return render(request, staff, "compliance/privacy.html", errors={}, form={}, decided=decided)


def _privacy_error(
    request: Request, staff: StaffPage, exc: RecoupError, form: dict[str, str]
) -> Response:
    field = exc.message.split(":")[0] if isinstance(exc, ValidationFailed) else "customer_id"
    return render(
        request,
        staff,
        "compliance/privacy.html",
        status=exc.status_code,
        errors={field: exc.message},
        form=dict(form),
        decided=None,
    )


# --- fairness of treatment -------------------------------------------------------------------


@router.get("/console/compliance/fairness")
def fairness(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    staff: Analyst,
    start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
) -> Response:
    """Treatment and outcomes by age band, region and sex within risk bands, the alerts in words
    (`analytics.fairness`, as `GET /v1/analytics/fairness`)."""
    error = None
    result = None
    today = clock.now().date()
    first, last = today - dt.timedelta(days=29), today
    try:
        first, last = _period(start, end, today=today, days=FAIRNESS_DAYS, default=30)
        period = analytics_schemas.Period(from_date=first, to_date=last)
        result = fairness_service.fairness(session, period)
    except ValidationFailed as exc:
        error = exc.message
    return render(
        request,
        staff,
        "compliance/fairness.html",
        status=422 if error else 200,
        result=result,
        start=first,
        end=last,
        error=error,
        attributes=("age_band", "region", "sex"),
        shown=("attempts_per_day", "calls_per_day", "firm_share", "paused", "cured", "recovery"),
    )
