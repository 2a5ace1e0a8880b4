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
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from recoup.compliance.codes import Code
from recoup.compliance.explain import CODE_TEXT
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
    # The guard at plan time and at each send-time check, told rule by rule in the page's
    # language (a decision written before its verdict was kept has its reason codes only).
    at_plan = (record.get("decision") or {}).get("guard_at_plan") or {"codes": []}
    guard = _told(at_plan, staff)
    # Times shown in the reader's locale and the business zone, not as ISO text.
    scheduled = record["contact"]["scheduled_at"]
    record["contact"]["scheduled_at"] = dt.datetime.fromisoformat(scheduled) if scheduled else None
    for event in record["history"]:
        event["at"] = dt.datetime.fromisoformat(event["at"])
        event["guard"] = _told(event["guard"], staff) if event.get("guard") else None
        if event["guard"] is not None and isinstance(event.get("detail"), dict):
            # told rule by rule in its own table, not again as raw JSON in the history
            event["detail"] = {k: v for k, v in event["detail"].items() if k != "guard"}
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


def _told(told: dict[str, Any], staff: StaffPage) -> dict[str, Any]:
    """A verdict as `contact.service.explain` tells it, in the page's words: each rule's title
    and reason in its language (the packs' titles, `compliance.explain`'s reason texts), the
    moment in each of the debtor's zones in the reader's locale."""
    if "rules" not in told:
        return told
    zh = staff.lang.startswith("zh")
    texts = CODE_TEXT["zh" if zh else "en"]
    rules = []
    for r in told["rules"]:
        code = r["code"]
        rules.append(
            {
                **r,
                "title": r["title_zh"] if zh else r["title"],
                "reason": texts.get(Code(code), code) if code in Code.__members__ else code,
            }
        )
    local = [
        {
            "zone": x["zone"],
            "at": format_datetime(
                dt.datetime.fromisoformat(x["at"]),
                format="medium",
                tzinfo=ZoneInfo(x["zone"]),
                locale=staff.locale,
            ),
        }
        for x in told["local"]
        if x["at"]
    ]
    next_at = told["next_allowed_at"]
    return {
        **told,
        "rules": rules,
        "local": local,
        "at": dt.datetime.fromisoformat(told["at"]) if told["at"] else None,
        "next_allowed_at": dt.datetime.fromisoformat(next_at) if next_at else None,
    }


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
