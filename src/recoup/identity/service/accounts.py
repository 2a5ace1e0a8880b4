"""Staff identity, console sessions and API keys.

- Passwords: argon2id (argon2-cffi's defaults), rehashed on sign-in when the parameters change.
- Lockout: after `MAX_FAILURES` wrong passwords a user is locked for `LOCKOUT`; every failure
  (wrong password, unknown user, locked or disabled user) answers the same 401 in the same time,
  so an answer never tells whether a username exists.
- Sessions: a random 256-bit token in a Secure, HttpOnly, SameSite=Strict cookie; the database keeps
  only its SHA-256. Idle and absolute expiry.
- API keys: `rk_<prefix>_<secret>`. The prefix is public and identifies the key in logs and lists;
  the database keeps only the SHA-256 of the whole key. Scopes are permissions, fixed at creation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from recoup.audit import service as audit_service
from recoup.identity.permissions import API_KEY_SCOPES, MATRIX, Permission, Role, role_allows
from recoup.identity.repository import ApiKeyRepository, SessionRepository, StaffRepository
from recoup.kit.clock import Clock
from recoup.kit.errors import (
    Conflict,
    Forbidden,
    NotAuthenticated,
    NotFound,
    RecoupError,
    ValidationFailed,
)
from recoup.models.identity import ApiKey, StaffSession, StaffUser

MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=15)
SESSION_IDLE = dt.timedelta(minutes=30)
SESSION_ABSOLUTE = dt.timedelta(hours=12)
MIN_PASSWORD = 12

_hasher = PasswordHasher()
# Verified against when the user does not exist, so both paths cost one argon2 verification.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


WRONG_CREDENTIALS = "wrong username or password"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a staff member (by role) or an integration (by API key scopes)."""

    kind: str  # "staff" or "api_key"
    id: int
    name: str
    permissions: frozenset[Permission]
    role: Role | None = None

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.name}"

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class DelegationRefused(Forbidden):
    code = "delegation_refused"
    description = "The caller cannot give permissions it does not hold itself"


def check_delegation(
    granted_by: Principal | None, permissions: frozenset[Permission], *, what: str
) -> None:
    """Privilege is never delegated beyond what the delegator holds: an administrator creates no
    supervisor (who may reveal personal data) and mints no key with a scope its role lacks. Those
    are the operator's, at the host, with the CLI (an audited act)."""
    if granted_by is None:
        return
    beyond = sorted(permissions - granted_by.permissions)
    if beyond:
        raise DelegationRefused(
            f"{what} would give {', '.join(beyond)}, which you do not hold; "
            "an operator grants them with the CLI"
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed(f"a password needs at least {MIN_PASSWORD} characters")


def create_staff(
    session: Session,
    *,
    username: str,
    display_name: str,
    role: Role,
    password: str,
    clock: Clock,
    created_by: str = "cli",
    granted_by: Principal | None = None,
) -> StaffUser:
    """`granted_by`: the caller (an API request), who may give a role only if it holds every
    permission of that role itself; None is the operator at the host (`recoup staff create`)."""
    check_delegation(granted_by, MATRIX[role], what=f"the role {role}")
    repo = StaffRepository(session)
    if repo.by_username(username) is not None:
        raise Conflict(f"staff user {username!r} already exists")
    check_password_strength(password)
    audit_service.record(
        session,
        actor=created_by,
        action="staff.created",
        subject_type="staff_user",
        subject_id=username,
        clock=clock,
        after={"username": username, "role": str(role)},
    )
    return repo.create(
        StaffUser(
            username=username,
            display_name=display_name,
            role=role,
            password_hash=_hasher.hash(password),
            failed_attempts=0,
            created_at=clock.now(),
        )
    )


def staff_principal(user: StaffUser) -> Principal:
    role = Role(user.role)
    return Principal("staff", user.id, user.username, MATRIX[role], role)


@dataclass(frozen=True)
class SignedIn:
    token: str
    row: StaffSession
    user: StaffUser


def sign_in(
    session: Session, *, username: str, password: str, clock: Clock
) -> SignedIn | RecoupError:
    """Check the password and open a session.

    A refusal is returned, not raised: the failure count it updates must be committed with the
    request, and a raised error would roll it back."""
    now = clock.now()
    user = StaffRepository(session).by_username(username)
    locked = user is not None and user.locked_until is not None and user.locked_until > now
    try:
        # Verified even for a locked or missing user: every refusal costs the same time.
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        ok = user is not None and user.disabled_at is None
    except (VerificationError, InvalidHashError):
        ok = False
    if locked:
        # The same answer as a wrong password: a distinct one (a 429, "locked") would tell an
        # outsider which usernames exist. The audit ledger records the lock.
        _audit_sign_in(session, username, "locked", clock)
        return NotAuthenticated(WRONG_CREDENTIALS)
    if not ok or user is None:
        if user is not None:
            user.failed_attempts += 1
            if user.failed_attempts >= MAX_FAILURES:
                user.locked_until = now + LOCKOUT
                user.failed_attempts = 0
        _audit_sign_in(session, username if user else "unknown", "refused", clock)
        session.flush()
        return NotAuthenticated(WRONG_CREDENTIALS)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.failed_attempts, user.locked_until = 0, None
    token = secrets.token_urlsafe(32)
    row = SessionRepository(session).create(
        StaffSession(
            staff_id=user.id,
            token_hash=_sha256(token),
            created_at=now,
            expires_at=now + SESSION_ABSOLUTE,
            last_seen_at=now,
        )
    )
    _audit_sign_in(session, username, "accepted", clock)
    return SignedIn(token, row, user)


def _audit_sign_in(session: Session, username: str, outcome: str, clock: Clock) -> None:
    audit_service.record(
        session,
        actor=f"staff:{username}",
        action=f"sign_in.{outcome}",
        subject_type="staff_user",
        subject_id=username,
        clock=clock,
    )


def authenticate_session(session: Session, token: str, *, clock: Clock) -> StaffUser:
    now = clock.now()
    row = SessionRepository(session).by_token_hash(_sha256(token))
    if (
        row is None
        or row.revoked_at is not None
        or row.expires_at <= now
        or now - row.last_seen_at > SESSION_IDLE
    ):
        raise NotAuthenticated("session expired; sign in again")
    user = StaffRepository(session).get(row.staff_id)
    if user is None or user.disabled_at is not None:
        raise NotAuthenticated("session expired; sign in again")
    if now - row.last_seen_at > dt.timedelta(minutes=1):
        row.last_seen_at = now
    return user


def sign_out(session: Session, token: str, *, clock: Clock) -> None:
    row = SessionRepository(session).by_token_hash(_sha256(token))
    if row is not None and row.revoked_at is None:
        row.revoked_at = clock.now()
        session.flush()


def create_api_key(
    session: Session,
    *,
    name: str,
    scopes: list[Permission],
    created_by: str,
    clock: Clock,
    expires_at: dt.datetime | None = None,
    granted_by: Principal | None = None,
) -> tuple[str, ApiKey]:
    """Returns the key (shown once, never stored) and its row. `granted_by` as for `create_staff`:
    a caller mints only scopes it holds itself."""
    outside = sorted(set(scopes) - API_KEY_SCOPES)
    if outside:
        raise ValidationFailed(f"an API key cannot hold {', '.join(outside)}")
    check_delegation(granted_by, frozenset(scopes), what="these scopes")
    if not scopes:
        raise ValidationFailed("an API key needs at least one scope")
    prefix = secrets.token_hex(4)
    key = f"rk_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKeyRepository(session).create(
        ApiKey(
            prefix=prefix,
            key_hash=_sha256(key),
            name=name,
            scopes=sorted(str(s) for s in set(scopes)),
            created_by=created_by,
            created_at=clock.now(),
            expires_at=expires_at,
        )
    )
    audit_service.record(
        session,
        actor=created_by,
        action="api_key.created",
        subject_type="api_key",
        subject_id=f"rk_{prefix}",
        clock=clock,
        after={"scopes": row.scopes, "name": name},
    )
    return key, row


def authenticate_api_key(session: Session, key: str, *, clock: Clock) -> Principal:
    parts = key.split("_")
    if len(parts) < 3 or parts[0] != "rk":
        raise NotAuthenticated("not a Recoup API key")
    row = ApiKeyRepository(session).by_prefix(parts[1])
    now = clock.now()
    if (
        row is None
        or not hmac.compare_digest(row.key_hash, _sha256(key))
        or row.revoked_at is not None
        or (row.expires_at is not None and row.expires_at <= now)
    ):
        raise NotAuthenticated("API key unknown, revoked or expired")
    if row.last_used_at is None or now - row.last_used_at > dt.timedelta(minutes=1):
        row.last_used_at = now
    scopes = frozenset(Permission(s) for s in row.scopes)
    return Principal("api_key", row.id, f"rk_{row.prefix}", scopes)


def revoke_api_key(session: Session, key_id: int, *, clock: Clock, actor: str = "cli") -> ApiKey:
    row = ApiKeyRepository(session).get(key_id)
    if row is None:
        raise NotFound(f"no API key {key_id}")
    if row.revoked_at is None:
        row.revoked_at = clock.now()
        audit_service.record(
            session,
            actor=actor,
            action="api_key.revoked",
            subject_type="api_key",
            subject_id=f"rk_{row.prefix}",
            clock=clock,
        )
        session.flush()
    return row


def list_api_keys(session: Session) -> list[ApiKey]:
    repo = ApiKeyRepository(session)
    return list(repo.list(repo.base().order_by(ApiKey.id)))


def staff_who_can(session: Session, permission: Permission) -> list[StaffUser]:
    """The active staff users whose role holds this permission (the agents a task may go to)."""
    roles = [r.value for r in Role if role_allows(r, permission)]
    return StaffRepository(session).active_in_roles(roles)
