"""REST: a person's consents (recorded and withdrawn with their evidence) and data-subject
requests (an export of everything held, an erasure request decided at once)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from recoup.http.deps import ClockDep, RowId, SessionDep
from recoup.http.errors import AUTHENTICATED, responses
from recoup.http.openapi import link, links
from recoup.identity.auth import require
from recoup.identity.permissions import Permission
from recoup.identity.service import Principal
from recoup.kit.errors import ValidationFailed
from recoup.privacy import schemas
from recoup.privacy import service as privacy_service
from recoup.privacy.service import ConsentNotFound, CustomerNotFound

P = Permission
router = APIRouter(prefix="/v1", tags=["privacy"], responses=AUTHENTICATED)

WITHDRAW = link(
    "post",
    "/v1/customers/{customer_id}/consents/{consent_id}/withdraw",
    "Withdraw it",
    customer_id="$request.path.customer_id",
    consent_id="$response.body#/id",
)


@router.get(
    "/customers/{customer_id}/consents",
    response_model=list[schemas.Consent],
    summary="A customer's consents",
    responses=responses(CustomerNotFound),
)
def consents_of(
    customer_id: RowId, session: SessionDep, _: Principal = require(P.customers_read)
) -> list[schemas.Consent]:
    """Every consent the person gave, in force or not, oldest first, with its evidence."""
    return [
        schemas.Consent.model_validate(c) for c in privacy_service.consents_of(session, customer_id)
    ]


@router.post(
    "/customers/{customer_id}/consents",
    status_code=201,
    response_model=schemas.Consent,
    summary="Record a consent",
    responses={**responses(CustomerNotFound, ValidationFailed), **links(201, Withdraw=WITHDRAW)},
)
def record_consent(
    customer_id: RowId,
    data: schemas.ConsentIn,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.consents_write),
) -> schemas.Consent:
    """A consent the person gave, with its kind, channel, scope, evidence and expiry. The guard
    counts it from now until it expires or is withdrawn (`electronic` consents open e-mail and SMS
    where a rule pack asks for consent)."""
    consent = privacy_service.record_consent(
        session,
        customer_id,
        purpose=data.kind,
        channel=data.channel,
        scope=data.scope.as_dict(),
        evidence=data.evidence,
        expires_at=data.expires_at,
        source="api" if principal.kind == "api_key" else "agent",
        actor=principal.actor,
        clock=clock,
    )
    return schemas.Consent.model_validate(consent)


def _withdraw(
    session: Any, customer_id: int, consent_id: int, principal: Principal, clock: Any
) -> schemas.Consent:
    consent = privacy_service.withdraw_consent(
        session, consent_id, customer_id=customer_id, actor=principal.actor, clock=clock
    )
    return schemas.Consent.model_validate(consent)


@router.post(
    "/customers/{customer_id}/consents/{consent_id}/withdraw",
    response_model=schemas.Consent,
    summary="Withdraw a consent",
    responses=responses(ConsentNotFound),
)
def withdraw_consent(
    customer_id: RowId,
    consent_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.consents_write),
) -> schemas.Consent:
    """The consent stops counting now; the record stays (with when it was withdrawn). Withdrawing
    again changes nothing."""
    return _withdraw(session, customer_id, consent_id, principal, clock)


@router.delete(
    "/customers/{customer_id}/consents/{consent_id}",
    response_model=schemas.Consent,
    summary="Withdraw a consent (DELETE)",
    responses=responses(ConsentNotFound),
)
def delete_consent(
    customer_id: RowId,
    consent_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.consents_write),
) -> schemas.Consent:
    """The same as `POST .../withdraw`: a consent is withdrawn, never erased (the evidence stays
    for the person's export and the regulator)."""
    return _withdraw(session, customer_id, consent_id, principal, clock)


@router.post(
    "/customers/{customer_id}/export",
    summary="Export everything held about a person",
    responses=responses(CustomerNotFound, ValidationFailed),
)
def export(
    customer_id: RowId,
    data: schemas.RequestIn,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.privacy_requests),
) -> dict[str, Any]:
    """One JSON document (PIPL Art. 45, GDPR Art. 15): identity and contacts in clear (it is the
    person's own data, for the person), accounts, money, consents, messages, who read their data.
    The export goes on their data-access log with the reason."""
    return privacy_service.export(
        session, customer_id, actor=principal.actor, reason=data.reason, clock=clock
    )


@router.post(
    "/customers/{customer_id}/erasure-requests",
    status_code=201,
    response_model=schemas.ErasureRequest,
    summary="Request erasure",
    responses=responses(CustomerNotFound, ValidationFailed),
)
def request_erasure(
    customer_id: RowId,
    data: schemas.RequestIn,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.privacy_requests),
) -> schemas.ErasureRequest:
    """Decided at once: erased now, scheduled for the date the retention period ends, or refused
    with the legal ground (an amount still owed)."""
    request = privacy_service.request_erasure(
        session, customer_id, actor=principal.actor, reason=data.reason, clock=clock
    )
    return schemas.ErasureRequest.model_validate(request)


@router.get(
    "/customers/{customer_id}/erasure-requests",
    response_model=list[schemas.ErasureRequest],
    summary="A person's erasure requests",
    responses=responses(CustomerNotFound),
)
def erasure_requests(
    customer_id: RowId, session: SessionDep, _: Principal = require(P.privacy_requests)
) -> list[schemas.ErasureRequest]:
    return [
        schemas.ErasureRequest.model_validate(r)
        for r in privacy_service.erasure_requests(session, customer_id)
    ]
