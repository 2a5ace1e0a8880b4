from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from recoup.http.deps import ClockDep, RowId, SessionDep
from recoup.http.errors import AUTHENTICATED_ERRORS, error_response, responses
from recoup.http.openapi import link, links
from recoup.identity import schemas
from recoup.identity import service as identity_service
from recoup.identity.auth import SESSION_COOKIE, authenticate, require
from recoup.identity.permissions import Permission
from recoup.identity.service import CodeRefused, DelegationRefused, OwnProposal, Principal
from recoup.kit.errors import Conflict, NotAuthenticated, NotFound, RecoupError, ValidationFailed
from recoup.kit.ratelimit import RateLimiter

# Signing in and out needs no permission, so each route lists its own errors.
router = APIRouter(prefix="/v1", tags=["identity"])
P = Permission


class TooManyRequests(RecoupError):
    status_code = 429
    code = "too_many_requests"
    description = "Too many attempts; wait before trying again"


def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.sign_in_limiter
    return limiter


@router.post(
    "/auth/sessions",
    response_model=schemas.Me,
    summary="Sign in",
    responses=responses(NotAuthenticated, TooManyRequests, ValidationFailed),
)
def sign_in(
    request: Request,
    response: Response,
    data: schemas.SignIn,
    session: SessionDep,
    clock: ClockDep,
    limiter: Annotated[RateLimiter, Depends(_limiter)],
) -> schemas.Me:
    """Check a staff member's password and set the session cookie (Secure, HttpOnly, SameSite=Strict).
    Ten attempts a minute per client address; five wrong passwords lock the user for 15 minutes."""
    client = request.client.host if request.client else "unknown"
    wait = limiter.hit(client)
    if wait is not None:
        raise TooManyRequests(f"too many sign-in attempts; wait {int(wait.total_seconds()) + 1} s")
    outcome = identity_service.sign_in(
        session, username=data.username, password=data.password, clock=clock
    )
    if isinstance(outcome, RecoupError):
        return error_response(outcome)  # type: ignore[return-value]
    user = outcome.user
    response.set_cookie(
        SESSION_COOKIE,
        outcome.token,
        max_age=int(identity_service.SESSION_ABSOLUTE.total_seconds()),
        secure=True,
        httponly=True,
        samesite="strict",
        path="/",
    )
    principal = identity_service.staff_principal(user)
    return schemas.Me(
        kind="staff",
        name=user.username,
        role=principal.role,
        permissions=sorted(principal.permissions),
    )


@router.delete("/auth/sessions/current", status_code=204, summary="Sign out")
def sign_out(
    request: Request, response: Response, session: SessionDep, clock: ClockDep
) -> Response:
    """End the console session (the cookie stops working at once)."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        identity_service.sign_out(session, token, clock=clock)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response


@router.get(
    "/auth/me", response_model=schemas.Me, summary="Who am I", responses=responses(NotAuthenticated)
)
def me(principal: Annotated[Principal, Depends(authenticate)]) -> schemas.Me:
    """The caller and what it may do."""
    return schemas.Me(
        kind=principal.kind,
        name=principal.name,
        role=principal.role,
        permissions=sorted(principal.permissions),
    )


@router.post(
    "/staff",
    status_code=201,
    response_model=schemas.Staff,
    summary="Add a staff member",
    responses=responses(*AUTHENTICATED_ERRORS, DelegationRefused, Conflict),
)
def create_staff(
    data: schemas.StaffCreate,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.staff_manage),
) -> schemas.Staff:
    """Create a staff user with a role; the password is stored as an argon2id hash. The caller must
    hold every permission of the role it gives (403 `delegation_refused` otherwise)."""
    user = identity_service.create_staff(
        session,
        username=data.username,
        display_name=data.display_name,
        role=data.role,
        password=data.password,
        clock=clock,
        created_by=principal.actor,
        granted_by=principal,
    )
    return schemas.Staff.model_validate(user)


@router.post(
    "/api-keys",
    status_code=201,
    response_model=schemas.ApiKeyCreated,
    summary="Create an API key",
    responses={
        **responses(*AUTHENTICATED_ERRORS, DelegationRefused),
        **links(
            201,
            Revoke=link(
                "delete", "/v1/api-keys/{key_id}", "Revoke it", key_id="$response.body#/id"
            ),
        ),
    },
)
def create_api_key(
    data: schemas.ApiKeyCreate,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.api_keys_manage),
) -> schemas.ApiKeyCreated:
    """A key for an integration, with the scopes it needs, each one the caller holds itself (403
    `delegation_refused` otherwise). The key is in this answer and nowhere else."""
    key, row = identity_service.create_api_key(
        session,
        name=data.name,
        scopes=data.scopes,
        created_by=principal.actor,
        clock=clock,
        expires_at=data.expires_at,
        granted_by=principal,
    )
    return schemas.ApiKeyCreated(**schemas.ApiKey.model_validate(row).model_dump(), key=key)


@router.get(
    "/api-keys",
    response_model=list[schemas.ApiKey],
    summary="List API keys",
    responses=responses(*AUTHENTICATED_ERRORS),
)
def list_api_keys(
    session: SessionDep, _: Principal = require(P.api_keys_manage)
) -> list[schemas.ApiKey]:
    """Every key by prefix, with its scopes and last use; never the key itself."""
    return [schemas.ApiKey.model_validate(k) for k in identity_service.list_api_keys(session)]


@router.delete(
    "/api-keys/{key_id}",
    response_model=schemas.ApiKey,
    summary="Revoke an API key",
    responses=responses(*AUTHENTICATED_ERRORS, NotFound),
)
def revoke_api_key(
    key_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.api_keys_manage),
) -> schemas.ApiKey:
    """The key stops working at once. Revoking twice changes nothing."""
    return schemas.ApiKey.model_validate(
        identity_service.revoke_api_key(session, key_id, clock=clock, actor=principal.actor)
    )


def _proposal(row: Any, now: dt.datetime) -> schemas.Proposal:
    out = schemas.Proposal.model_validate(row)
    out.status = identity_service.status_of(row, now)
    return out


@router.get(
    "/staff",
    response_model=list[schemas.StaffMember],
    summary="List staff",
    responses=responses(*AUTHENTICATED_ERRORS),
)
def list_staff(
    session: SessionDep, _: Principal = require(P.staff_manage)
) -> list[schemas.StaffMember]:
    """Every staff member with role and whether disabled; never a password or its hash."""
    return [schemas.StaffMember.model_validate(u) for u in identity_service.list_staff(session)]


@router.post(
    "/staff/{staff_id}/disable",
    response_model=schemas.StaffMember,
    summary="Disable a staff member",
    responses=responses(*AUTHENTICATED_ERRORS, NotFound, Conflict),
)
def disable_staff(
    staff_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.staff_manage),
) -> schemas.StaffMember:
    """The person cannot sign in and their sessions end at once. Not oneself."""
    user = identity_service.set_disabled(
        session, staff_id, disabled=True, actor=principal, clock=clock
    )
    return schemas.StaffMember.model_validate(user)


@router.post(
    "/staff/{staff_id}/enable",
    response_model=schemas.StaffMember,
    summary="Enable a staff member",
    responses=responses(*AUTHENTICATED_ERRORS, NotFound, Conflict),
)
def enable_staff(
    staff_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.staff_manage),
) -> schemas.StaffMember:
    """A disabled person may sign in again. Not oneself."""
    user = identity_service.set_disabled(
        session, staff_id, disabled=False, actor=principal, clock=clock
    )
    return schemas.StaffMember.model_validate(user)


@router.post(
    "/staff/proposals",
    status_code=201,
    response_model=schemas.Proposal,
    summary="Propose a staff member",
    responses=responses(*AUTHENTICATED_ERRORS, Conflict),
)
def propose_staff(
    data: schemas.StaffProposalCreate,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.staff_manage),
) -> schemas.Proposal:
    """Four eyes: any role may be proposed; nothing is made until a different administrator
    approves (`POST /v1/proposals/{proposal_id}/approve`) within 72 hours."""
    row = identity_service.propose_staff(
        session,
        username=data.username,
        display_name=data.display_name,
        role=data.role,
        proposer=principal,
        clock=clock,
    )
    return _proposal(row, clock.now())


@router.post(
    "/api-keys/proposals",
    status_code=201,
    response_model=schemas.Proposal,
    summary="Propose an API key",
    responses=responses(*AUTHENTICATED_ERRORS),
)
def propose_api_key(
    data: schemas.ApiKeyProposalCreate,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.api_keys_manage),
) -> schemas.Proposal:
    """Four eyes: any scope an API key may hold; made (and shown once) when a different
    administrator approves."""
    row = identity_service.propose_api_key(
        session, name=data.name, scopes=data.scopes, proposer=principal, clock=clock
    )
    return _proposal(row, clock.now())


@router.get(
    "/proposals",
    response_model=list[schemas.Proposal],
    summary="List staff and API key proposals",
    responses=responses(*AUTHENTICATED_ERRORS),
)
def list_proposals(
    session: SessionDep, clock: ClockDep, _: Principal = require(P.staff_approve)
) -> list[schemas.Proposal]:
    """The latest proposals, newest first, with their state (an unapproved one expires)."""
    now = clock.now()
    return [_proposal(p, now) for p in identity_service.list_proposals(session)]


@router.post(
    "/proposals/{proposal_id}/approve",
    response_model=schemas.ProposalApproved,
    summary="Approve a proposal",
    responses=responses(*AUTHENTICATED_ERRORS, OwnProposal, NotFound, Conflict),
)
def approve_proposal(
    proposal_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.staff_approve),
) -> schemas.ProposalApproved:
    """Makes exactly what was proposed. Not by the proposer (403 `own_proposal`). A staff member
    comes with a one-time set-password code, an API key with the key: each in this answer only."""
    done = identity_service.approve(session, proposal_id, approver=principal, clock=clock)
    return schemas.ProposalApproved(
        **_proposal(done.proposal, clock.now()).model_dump(),
        set_password_code=done.code,
        set_password_code_expires_at=done.code_expires_at,
        key=done.key,
    )


@router.post(
    "/proposals/{proposal_id}/refuse",
    response_model=schemas.Proposal,
    summary="Refuse a proposal",
    responses=responses(*AUTHENTICATED_ERRORS, NotFound, Conflict),
)
def refuse_proposal(
    proposal_id: RowId,
    data: schemas.ProposalRefusal,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.staff_approve),
) -> schemas.Proposal:
    """Nothing is made; the reason is kept."""
    row = identity_service.refuse(
        session, proposal_id, approver=principal, reason=data.reason, clock=clock
    )
    return _proposal(row, clock.now())


@router.post(
    "/auth/password",
    status_code=204,
    summary="Choose a password with a one-time code",
    responses=responses(CodeRefused, ValidationFailed),
)
def set_password(data: schemas.SetPassword, session: SessionDep, clock: ClockDep) -> Response:
    """A new staff member, with the code an approver handed over, chooses their password (at
    least 12 characters). The code (96 random bits: no rate limit needed against guessing) works
    once, for 24 hours, and only for the user it was issued to."""
    identity_service.redeem_password_code(
        session, username=data.username, code=data.code, password=data.password, clock=clock
    )
    return Response(status_code=204)
