"""Four eyes on privilege: staff and API keys proposed by one administrator, approved by another.

An administrator cannot give what it does not hold (`accounts.check_delegation`), so a supervisor,
an agent, a compliance officer or a key with scopes beyond its own is *proposed* here and made only
when a different holder of `staff:approve` approves. A staff member is made with an unusable random
password and a one-time code, shown to the approver alone, with which the new person chooses their
own password (`redeem_password_code`): the proposer never learns a credential of the person it
proposed, and the approver only a code that works once, for `CODE_LIFETIME`. A proposal not
approved within `PROPOSAL_LIFETIME` is expired and makes nothing. Every step is on the audit ledger.

States: pending -> approved | refused; pending past `expires_at` reads as expired (nothing written
by reading it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from recoup.audit import service as audit_service
from recoup.identity.permissions import API_KEY_SCOPES, Permission, Role
from recoup.identity.repository import (
    PasswordCodeRepository,
    ProposalRepository,
    SessionRepository,
    StaffRepository,
)
from recoup.identity.service.accounts import (
    Principal,
    check_password_strength,
    create_api_key,
    create_staff,
    hash_password,
)
from recoup.kit.clock import Clock
from recoup.kit.errors import BadRequest, Conflict, Forbidden, NotFound, ValidationFailed
from recoup.models.identity import ApiKey, PasswordCode, StaffProposal, StaffUser

PROPOSAL_LIFETIME = dt.timedelta(hours=72)
CODE_LIFETIME = dt.timedelta(hours=24)
USERNAME = re.compile(r"^[a-z0-9._-]{2,64}$")
MAX_DISPLAY_NAME = 128
MAX_KEY_NAME = 128
MAX_REASON = 500
MAX_CODE = 64


class OwnProposal(Forbidden):
    code = "own_proposal"
    description = "Four eyes: a proposal is approved by someone other than who proposed it"


class CodeRefused(BadRequest):
    code = "code_refused"
    description = "The set-password code is unknown, used or expired, or not this user's"


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def status_of(proposal: StaffProposal, now: dt.datetime) -> str:
    if proposal.status == "pending" and proposal.expires_at <= now:
        return "expired"
    return proposal.status


def _field(name: str, problem: str) -> ValidationFailed:
    return ValidationFailed(f"{name}: {problem}", details=[{"field": name, "problem": problem}])


def _check_staff_fields(username: str, display_name: str) -> None:
    if not USERNAME.fullmatch(username):
        raise _field("username", "2 to 64 of a-z, 0-9, '.', '_', '-'")
    if not display_name.strip() or len(display_name) > MAX_DISPLAY_NAME:
        raise _field("display_name", f"1 to {MAX_DISPLAY_NAME} characters")


def _proposer(principal: Principal) -> None:
    if principal.kind != "staff":
        raise Forbidden("proposals are made by a signed-in staff member")


def propose_staff(
    session: Session,
    *,
    username: str,
    display_name: str,
    role: Role | str,
    proposer: Principal,
    clock: Clock,
) -> StaffProposal:
    _proposer(proposer)
    username = username.strip()
    display_name = display_name.strip()
    _check_staff_fields(username, display_name)
    try:
        role = Role(role)
    except ValueError:
        raise _field("role", f"one of {', '.join(Role)}") from None
    now = clock.now()
    if StaffRepository(session).by_username(username) is not None:
        raise Conflict(f"staff user {username!r} already exists")
    waiting = ProposalRepository(session).pending_username(username)
    if waiting is not None and status_of(waiting, now) == "pending":
        raise Conflict(f"staff user {username!r} is already proposed (proposal {waiting.id})")
    proposal = ProposalRepository(session).create(
        StaffProposal(
            kind="staff",
            status="pending",
            username=username,
            display_name=display_name,
            role=str(role),
            scopes=[],
            proposed_by=proposer.actor,
            proposed_by_id=proposer.id,
            expires_at=now + PROPOSAL_LIFETIME,
            created_at=now,
        )
    )
    _audit(session, proposal, "proposed", proposer.actor, clock, after={"role": str(role)})
    return proposal


def propose_api_key(
    session: Session,
    *,
    name: str,
    scopes: Sequence[Permission | str],
    proposer: Principal,
    clock: Clock,
) -> StaffProposal:
    _proposer(proposer)
    name = name.strip()
    if not name or len(name) > MAX_KEY_NAME:
        raise _field("name", f"1 to {MAX_KEY_NAME} characters")
    wanted: set[Permission] = set()
    for scope in scopes:
        try:
            wanted.add(Permission(scope))
        except ValueError:
            raise _field("scopes", f"{str(scope)[:64]!r} is not a permission") from None
    if not wanted:
        raise _field("scopes", "at least one scope")
    outside = sorted(wanted - API_KEY_SCOPES)
    if outside:
        raise _field("scopes", f"an API key cannot hold {', '.join(outside)}")
    now = clock.now()
    proposal = ProposalRepository(session).create(
        StaffProposal(
            kind="api_key",
            status="pending",
            key_name=name,
            scopes=sorted(str(s) for s in wanted),
            proposed_by=proposer.actor,
            proposed_by_id=proposer.id,
            expires_at=now + PROPOSAL_LIFETIME,
            created_at=now,
        )
    )
    _audit(session, proposal, "proposed", proposer.actor, clock, after={"scopes": proposal.scopes})
    return proposal


def list_proposals(session: Session, *, limit: int = 100) -> Sequence[StaffProposal]:
    return ProposalRepository(session).recent(limit=min(max(limit, 1), 500))


@dataclass(frozen=True)
class Approved:
    """What an approval made. `code` (a staff member's one-time set-password code) and `key` (an
    API key) are shown to the approver once and stored nowhere."""

    proposal: StaffProposal
    user: StaffUser | None = None
    code: str | None = None
    code_expires_at: dt.datetime | None = None
    key: str | None = None
    key_row: ApiKey | None = None


def _pending(session: Session, proposal_id: int, now: dt.datetime) -> StaffProposal:
    proposal = ProposalRepository(session).get(proposal_id)
    if proposal is None:
        raise NotFound(f"no proposal {proposal_id}")
    status = status_of(proposal, now)
    if status != "pending":
        raise Conflict(f"proposal {proposal_id} is {status}; only a pending one can be decided")
    return proposal


def _is_proposer(proposal: StaffProposal, principal: Principal) -> bool:
    if proposal.proposed_by == principal.actor:
        return True
    return principal.kind == "staff" and proposal.proposed_by_id == principal.id


def approve(session: Session, proposal_id: int, *, approver: Principal, clock: Clock) -> Approved:
    """The second pair of eyes: makes exactly what was proposed (the role, the scopes), no more."""
    _proposer(approver)
    if not approver.can(Permission.staff_approve):
        raise Forbidden(f"{approver.actor} lacks the {Permission.staff_approve} permission")
    now = clock.now()
    proposal = _pending(session, proposal_id, now)
    if _is_proposer(proposal, approver):
        raise OwnProposal("you proposed this; another administrator approves it")
    made_by = f"{approver.actor} (proposed by {proposal.proposed_by})"[:128]
    result: Approved
    if proposal.kind == "staff":
        assert proposal.username is not None
        assert proposal.display_name is not None
        assert proposal.role is not None
        user = create_staff(
            session,
            username=proposal.username,
            display_name=proposal.display_name,
            role=Role(proposal.role),
            # Nobody knows this password: the new person chooses theirs with the code.
            password=secrets.token_urlsafe(32),
            clock=clock,
            created_by=made_by,
        )
        code, expires_at = issue_password_code(session, user, actor=approver.actor, clock=clock)
        proposal.result_id = user.id
        result = Approved(proposal, user=user, code=code, code_expires_at=expires_at)
    else:
        key, row = create_api_key(
            session,
            name=proposal.key_name or "",
            scopes=[Permission(s) for s in proposal.scopes],
            created_by=made_by,
            clock=clock,
        )
        proposal.result_id = row.id
        result = Approved(proposal, key=key, key_row=row)
    proposal.status, proposal.decided_by, proposal.decided_at = "approved", approver.actor, now
    session.flush()
    _audit(
        session,
        proposal,
        "approved",
        approver.actor,
        clock,
        details={"result_id": result_id(result)},
    )
    return result


def result_id(approved: Approved) -> int | None:
    return approved.proposal.result_id


def refuse(
    session: Session, proposal_id: int, *, approver: Principal, reason: str, clock: Clock
) -> StaffProposal:
    """Nothing is made. The proposer may withdraw their own this way."""
    _proposer(approver)
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise _field("reason", f"1 to {MAX_REASON} characters")
    now = clock.now()
    proposal = _pending(session, proposal_id, now)
    proposal.status, proposal.decided_by, proposal.decided_at = "refused", approver.actor, now
    proposal.reason = reason
    session.flush()
    _audit(session, proposal, "refused", approver.actor, clock)
    return proposal


def issue_password_code(
    session: Session, user: StaffUser, *, actor: str, clock: Clock
) -> tuple[str, dt.datetime]:
    now = clock.now()
    codes = PasswordCodeRepository(session)
    codes.retire_open(user.id, at=now)
    code = secrets.token_hex(12)  # 96 bits: guessing is hopeless even without a limit
    expires_at = now + CODE_LIFETIME
    codes.create(
        PasswordCode(
            staff_id=user.id, code_hash=_sha256(code), expires_at=expires_at, created_at=now
        )
    )
    audit_service.record(
        session,
        actor=actor,
        action="staff.password_code_issued",
        subject_type="staff_user",
        subject_id=user.username,
        clock=clock,
        details={"expires_at": expires_at.isoformat()},
    )
    return code, expires_at


def reset_password_code(
    session: Session, username: str, *, actor: str, clock: Clock
) -> tuple[str, dt.datetime]:
    """A new code for someone who lost their password (the operator's CLI only)."""
    user = StaffRepository(session).by_username(username)
    if user is None:
        raise NotFound(f"no staff user {username!r}")
    return issue_password_code(session, user, actor=actor, clock=clock)


def canonical_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code[:MAX_CODE]).lower()


def redeem_password_code(
    session: Session, *, username: str, code: str, password: str, clock: Clock
) -> StaffUser:
    """The new person chooses their password with the code; the code works once."""
    now = clock.now()
    user = StaffRepository(session).by_username(username.strip()[:64])
    row = PasswordCodeRepository(session).by_hash(_sha256(canonical_code(code)))
    if (
        user is None
        or row is None
        or row.staff_id != user.id
        or row.used_at is not None
        or row.expires_at <= now
        or user.disabled_at is not None
    ):
        raise CodeRefused("the code is unknown, already used or expired; ask an administrator")
    if len(password) > 1024:
        raise _field("password", "at most 1024 characters")
    try:
        check_password_strength(password)
    except ValidationFailed as exc:
        raise _field("password", exc.message) from None
    row.used_at = now
    user.password_hash = hash_password(password)
    user.failed_attempts, user.locked_until = 0, None
    session.flush()
    audit_service.record(
        session,
        actor=f"staff:{user.username}",
        action="staff.password_set",
        subject_type="staff_user",
        subject_id=user.username,
        clock=clock,
    )
    return user


def list_staff(session: Session) -> Sequence[StaffUser]:
    return StaffRepository(session).all()


def set_disabled(
    session: Session, staff_id: int, *, disabled: bool, actor: Principal, clock: Clock
) -> StaffUser:
    """Disabling ends the person's sessions at once; enabling lets them sign in again."""
    user = StaffRepository(session).get(staff_id)
    if user is None:
        raise NotFound(f"no staff user {staff_id}")
    if actor.kind == "staff" and actor.id == user.id:
        raise Conflict("you cannot disable or enable yourself")
    now = clock.now()
    if disabled == (user.disabled_at is not None):
        return user
    user.disabled_at = now if disabled else None
    if disabled:
        SessionRepository(session).revoke_all(user.id, at=now)
    session.flush()
    audit_service.record(
        session,
        actor=actor.actor,
        action="staff.disabled" if disabled else "staff.enabled",
        subject_type="staff_user",
        subject_id=user.username,
        clock=clock,
    )
    return user


def _audit(
    session: Session,
    proposal: StaffProposal,
    verb: str,
    actor: str,
    clock: Clock,
    *,
    after: dict[str, object] | None = None,
    details: dict[str, object] | None = None,
) -> None:
    audit_service.record(
        session,
        actor=actor,
        action=f"{'staff' if proposal.kind == 'staff' else 'api_key'}.proposal_{verb}",
        subject_type="staff_proposal",
        subject_id=proposal.id,
        clock=clock,
        after=after,
        details={"kind": proposal.kind, **(details or {})},
    )
