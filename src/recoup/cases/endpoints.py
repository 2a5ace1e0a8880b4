"""REST: disputes, hardship requests and complaints, opened for a debtor and resolved by staff."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from recoup.cases import flows, schemas
from recoup.http.deps import ClockDep, RowId, SessionDep
from recoup.http.errors import AUTHENTICATED, responses
from recoup.http.openapi import link, links
from recoup.identity.auth import require
from recoup.identity.permissions import Permission
from recoup.identity.service import Principal
from recoup.kit.errors import Conflict, NotFound, ValidationFailed
from recoup.ledger import service as ledger_service
from recoup.ledger.service import CustomerNotFound

P = Permission
router = APIRouter(prefix="/v1", tags=["cases"], responses=AUTHENTICATED)


@router.post(
    "/customers/{customer_id}/cases",
    status_code=201,
    response_model=schemas.Case,
    summary="Open a case",
    responses={
        **responses(CustomerNotFound, NotFound, ValidationFailed),
        **links(
            201,
            Resolve=link(
                "post", "/v1/cases/{case_id}/resolve", "Resolve it", case_id="$response.body#/id"
            ),
        ),
    },
)
def open_case(
    customer_id: RowId,
    data: schemas.CaseIn,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.cases_write),
) -> schemas.Case:
    """A dispute or hardship case pauses collection on the accounts it names (all the customer's
    open accounts when none is named) until it is resolved; every case queues a task for a person.
    Reasons: dispute: not_mine, wrong_amount, already_paid, fraud, other; hardship: job_loss,
    illness, disaster, family, income_drop, other; complaint: too_many_contacts, wrong_time, rude,
    privacy, other. A review (reason automated_decision) records the debtor's request, made to
    an agent or by letter, that a person review the automated decisions about the account (PIPL
    art. 24): the same case as the portal's form opens, and asking again while one is open
    returns that one."""
    customer = ledger_service.get_customer(session, customer_id)
    if data.kind == "review":
        if data.reason != flows.REVIEW_REASON:
            raise ValidationFailed(f"a review's reason is {flows.REVIEW_REASON}")
        case, _ = flows.request_review(
            session,
            customer.id,
            account_ref=data.account_ref,
            text=data.text,
            opened_by=principal.actor,
            channel=data.channel,
            clock=clock,
        )
        return schemas.Case.model_validate(case)
    case = flows.open_case(
        session,
        customer.id,
        kind=data.kind,
        reason=data.reason,
        text=data.text,
        account_ref=data.account_ref,
        opened_by=principal.actor,
        channel=data.channel,
        clock=clock,
    )
    return schemas.Case.model_validate(case)


@router.get(
    "/customers/{customer_id}/cases",
    response_model=list[schemas.Case],
    summary="A customer's cases",
    responses=responses(CustomerNotFound),
)
def cases_of(
    customer_id: RowId, session: SessionDep, _: Principal = require(P.customers_read)
) -> list[schemas.Case]:
    customer = ledger_service.get_customer(session, customer_id)
    return [schemas.Case.model_validate(c) for c in flows.cases_of(session, customer.id)]


@router.post(
    "/cases/{case_id}/resolve",
    response_model=schemas.Case,
    summary="Resolve a case",
    responses=responses(NotFound, Conflict),
)
def resolve(
    case_id: RowId,
    data: schemas.ResolveIn,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.cases_resolve),
) -> schemas.Case:
    """The answer is recorded; the case's pauses end today and its accounts are decided again."""
    case = flows.resolve_case(
        session, case_id, resolution=data.resolution, by=principal.actor, clock=clock
    )
    return schemas.Case.model_validate(case)


@router.get(
    "/cases",
    response_model=list[schemas.InboxCase],
    summary="The cases inbox",
    responses=responses(ValidationFailed),
)
def inbox(
    session: SessionDep,
    clock: ClockDep,
    kind: Literal["dispute", "hardship", "complaint", "review"] | None = None,
    status: Literal["open", "resolved", "withdrawn"] | None = None,
    limit: int = Query(default=100, ge=1, le=200),
    principal: Principal = require(P.cases_resolve),
) -> list[schemas.InboxCase]:
    """Cases oldest first, each with its answer deadline by the debtor's jurisdiction's rule pack
    (a dispute's verification, a complaint's final response; docs/console.md says where each
    comes from) and whether it is overdue."""
    return [
        schemas.InboxCase(
            case=schemas.Case.model_validate(c.case),
            jurisdiction=c.jurisdiction,
            due=schemas.Due(
                date=c.due.date,
                overdue=c.due.overdue,
                rule=c.due.rule,
                citation=c.due.citation,
                days=c.due.days,
            ),
        )
        for c in flows.inbox(
            session, kind=kind, status=status, clock=clock, actor=principal.actor, limit=limit
        )
    ]


@router.post(
    "/cases/{case_id}/reply",
    status_code=201,
    response_model=schemas.ReplyPlanned,
    summary="Write to the debtor about a case",
    responses=responses(NotFound, Conflict, ValidationFailed),
)
def reply(
    case_id: RowId,
    data: schemas.ReplyIn,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.cases_resolve),
) -> schemas.ReplyPlanned:
    """A service message through the outbox, in the debtor's language on an allowed channel; the
    same answer once a day at most."""
    contact = flows.reply(session, case_id, template=data.template, by=principal.actor, clock=clock)
    return schemas.ReplyPlanned(contact_id=contact.id, channel=contact.channel)
