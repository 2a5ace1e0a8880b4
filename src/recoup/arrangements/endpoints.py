"""REST: offers, plan previews and arrangements, for the wallet's own app and for agents. Thin:
each endpoint calls one flow. Who made an arrangement is the caller (an agent, or the wallet's key)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from recoup.arrangements import flows, schemas
from recoup.arrangements import offers as arrangement_offers
from recoup.arrangements import service as arrangement_service
from recoup.arrangements.offers import NotOffered
from recoup.arrangements.repository import ArrangementRepository, instalments
from recoup.http.deps import ClockDep, RowId, SessionDep
from recoup.http.errors import AUTHENTICATED, responses
from recoup.http.openapi import link, links
from recoup.identity.auth import require
from recoup.identity.permissions import Permission
from recoup.identity.service import Principal
from recoup.kit.errors import Conflict, NotFound
from recoup.ledger import service as ledger_service
from recoup.ledger.service import AccountNotFound
from recoup.models import Arrangement

P = Permission
router = APIRouter(prefix="/v1", tags=["arrangements"], responses=AUTHENTICATED)
MADE = "$response.body#/id"
ARRANGEMENT_LINKS = {
    "GetArrangement": link(
        "get", "/v1/arrangements/{arrangement_id}", "The arrangement", arrangement_id=MADE
    ),
    "Approve": link(
        "post", "/v1/arrangements/{arrangement_id}/approve", "Approve it", arrangement_id=MADE
    ),
    "Reject": link(
        "post", "/v1/arrangements/{arrangement_id}/reject", "Reject it", arrangement_id=MADE
    ),
    "Cancel": link(
        "post", "/v1/arrangements/{arrangement_id}/cancel", "Cancel it", arrangement_id=MADE
    ),
    "OfAccount": link(
        "get",
        "/v1/accounts/{account_id}/arrangements",
        "The account's arrangements",
        account_id="$response.body#/account_id",
    ),
}


def _out(session: SessionDep, arrangement: Arrangement) -> schemas.Arrangement:
    out = schemas.Arrangement.model_validate(arrangement)
    out.instalments = [
        schemas.InstalmentOut.model_validate(i)
        for i in instalments(session, [arrangement.id]).get(arrangement.id, [])
    ]
    return out


@router.get(
    "/accounts/{account_id}/offers",
    response_model=schemas.Offers,
    summary="Offers",
    responses={
        **responses(AccountNotFound),
        **links(
            200,
            Quote=link(
                "post",
                "/v1/accounts/{account_id}/plan-quotes",
                "Preview a plan",
                account_id="$request.path.account_id",
            ),
        ),
    },
)
def offers(
    account_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    _: Principal = require(P.arrangements_read),
) -> schemas.Offers:
    """What the account owes today and what the active policy offers it now, with the bounds."""
    account = ledger_service.get_account(session, account_id)
    pos = arrangement_offers.position(session, account, clock=clock)
    return schemas.Offers(
        position=schemas.Position(
            today=pos.today, owed_minor=pos.owed, overdue_minor=pos.overdue, currency=pos.currency
        ),
        offers=arrangement_offers.offered(session, account, clock=clock),
    )


@router.post(
    "/accounts/{account_id}/plan-quotes",
    response_model=schemas.PlanQuote,
    summary="Preview a plan",
    responses=responses(AccountNotFound, NotOffered),
)
def plan_quote(
    account_id: RowId,
    data: schemas.PlanQuoteIn,
    session: SessionDep,
    clock: ClockDep,
    _: Principal = require(P.arrangements_read),
) -> schemas.PlanQuote:
    """The schedule and fee a plan would have, or a 422 naming the bound it breaks (and how many
    instalments would fit). Makes nothing."""
    account = ledger_service.get_account(session, account_id)
    fee, schedule, _bounds = flows.plan_quote(
        session,
        account,
        instalments=data.instalments,
        monthly_budget=data.monthly_budget_minor,
        monthly_income=data.monthly_income_minor,
        clock=clock,
    )
    return schemas.PlanQuote(
        fee_minor=fee,
        total_minor=sum(i.amount_minor for i in schedule),
        schedule=[
            schemas.InstalmentOut(seq=i.seq, due_date=i.due_date, amount_minor=i.amount_minor)
            for i in schedule
        ],
    )


@router.post(
    "/accounts/{account_id}/arrangements",
    status_code=201,
    response_model=schemas.Arrangement,
    summary="Make an arrangement",
    responses={
        **responses(AccountNotFound, NotOffered, Conflict),
        **links(201, **ARRANGEMENT_LINKS),
    },
)
def make(
    account_id: RowId,
    data: schemas.ArrangementIn,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.arrangements_write),
) -> schemas.Arrangement:
    """A promise, plan, extension or settlement within what the policy offers the account now.
    A settlement past the approval threshold waits for a supervisor (`awaiting_approval`)."""
    account = ledger_service.get_account(session, account_id)
    made = flows.make(
        session,
        account,
        data.kind,
        amount_minor=data.amount_minor,
        on=data.date,
        instalments=data.instalments,
        monthly_budget=data.monthly_budget_minor,
        monthly_income=data.monthly_income_minor,
        days=data.days,
        made_by=principal.actor,
        channel=data.channel,
        clock=clock,
    )
    return _out(session, made)


@router.get(
    "/accounts/{account_id}/arrangements",
    response_model=list[schemas.Arrangement],
    summary="An account's arrangements",
    responses=responses(AccountNotFound),
)
def of_account(
    account_id: RowId, session: SessionDep, _: Principal = require(P.arrangements_read)
) -> list[schemas.Arrangement]:
    """Newest first, open and ended."""
    account = ledger_service.get_account(session, account_id)
    return [_out(session, a) for a in ArrangementRepository(session).for_account(account.id)]


@router.get(
    "/arrangements/{arrangement_id}",
    response_model=schemas.Arrangement,
    summary="An arrangement",
    responses=responses(NotFound),
)
def get_one(
    arrangement_id: RowId, session: SessionDep, _: Principal = require(P.arrangements_read)
) -> schemas.Arrangement:
    return _out(session, flows.get(session, arrangement_id))


@router.post(
    "/arrangements/{arrangement_id}/approve",
    response_model=schemas.Arrangement,
    summary="Approve a settlement",
    responses=responses(NotFound, Conflict),
)
def approve(
    arrangement_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    data: schemas.DecisionIn | None = None,
    principal: Principal = require(P.arrangements_approve),
) -> schemas.Arrangement:
    """Only an arrangement awaiting approval; never by the person who made it. The debtor is told
    through the outbox."""
    return _out(
        session,
        flows.decide_approval(
            session,
            arrangement_id,
            approve=True,
            by=principal.actor,
            clock=clock,
            reason=data.reason if data else None,
        ),
    )


@router.post(
    "/arrangements/{arrangement_id}/reject",
    response_model=schemas.Arrangement,
    summary="Reject a settlement",
    responses=responses(NotFound, Conflict),
)
def reject(
    arrangement_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    data: schemas.DecisionIn | None = None,
    principal: Principal = require(P.arrangements_approve),
) -> schemas.Arrangement:
    """The settlement ends `rejected` with the reason; the debtor is told through the outbox."""
    return _out(
        session,
        flows.decide_approval(
            session,
            arrangement_id,
            approve=False,
            by=principal.actor,
            clock=clock,
            reason=data.reason if data else None,
        ),
    )


@router.get(
    "/approvals",
    response_model=list[schemas.Approval],
    summary="Arrangements awaiting approval",
)
def approvals(
    session: SessionDep,
    clock: ClockDep,
    limit: int = Query(default=100, ge=1, le=500),
    _: Principal = require(P.arrangements_approve),
) -> list[schemas.Approval]:
    """Settlements past the policy's threshold waiting for a supervisor, oldest first, each with
    what the account owes now, its days past due, the share asked and the policy's bounds now."""
    return [
        schemas.Approval(
            arrangement=_out(session, a.arrangement),
            owed_minor=a.owed_minor,
            dpd=a.dpd,
            asked_share_bps=a.asked_share_bps,
            bounds=a.bounds,
        )
        for a in flows.approvals(session, clock=clock, limit=limit)
    ]


@router.post(
    "/arrangements/{arrangement_id}/cancel",
    response_model=schemas.Arrangement,
    summary="Cancel an arrangement",
    responses=responses(NotFound, Conflict),
)
def cancel(
    arrangement_id: RowId,
    data: schemas.CancelIn,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.arrangements_write),
) -> schemas.Arrangement:
    """End an open arrangement; a plan's pause ends today. Rescheduled bills stay rescheduled."""
    return _out(
        session,
        flows.cancel(session, arrangement_id, by=principal.actor, reason=data.reason, clock=clock),
    )


@router.post(
    "/customers/{customer_id}/pay-links/revoke",
    status_code=201,
    response_model=schemas.Revoked,
    summary="Withdraw pay links",
    responses=responses(NotFound),
)
def revoke_links(
    customer_id: RowId,
    data: schemas.RevokeIn,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.links_revoke),
) -> schemas.Revoked:
    """One message's link (`contact_id`: it went to a wrong number), or every link of the customer
    issued so far (a lost phone). A withdrawn link opens nothing; the next message carries a new one."""
    revocation = arrangement_service.revoke(
        session,
        customer_id,
        contact_id=data.contact_id,
        actor=principal.actor,
        reason=data.reason,
        clock=clock,
    )
    return schemas.Revoked.model_validate(revocation)
