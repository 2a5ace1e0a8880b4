"""Policy versions: a policy's text stored once as a version, one version active, and the active
one compiled once per process (versions never change).

Two roads to activation. The desk's (API and console): a version is saved (a draft), its author
submits it, and a second person holding `policies:approve` approves it (it becomes active) or
rejects it with a reason; nobody approves or rejects a version they wrote or submitted. The
operator's at the host: `recoup strategy activate FILE` saves and activates in one step (whoever
can run commands on the host already holds the database). Every step is on the audit ledger.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from sqlalchemy.orm import Session

from recoup.audit import service as audit_service
from recoup.kit.clock import Clock
from recoup.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from recoup.models import PolicyVersion
from recoup.strategy.checking import MAX_POLICY_CHARS as MAX_POLICY_CHARS
from recoup.strategy.checking import Checked, check
from recoup.strategy.policy import Policy, PolicyError, parse_policy
from recoup.strategy.repository import PolicyVersionRepository

MAX_REASON_CHARS = 2_000


class NoActivePolicy(Conflict):
    code = "no_active_policy"
    description = "No policy is active"


class InvalidPolicy(Conflict):
    code = "invalid_policy"
    description = "The policy does not validate"


class PolicyTextInvalid(ValidationFailed):
    """A policy sent to be saved that does not load: `details` holds the line, column and path."""

    code = "invalid_policy"
    description = "The policy does not validate; `details` gives the line, column and path"


class PolicyVersionNotFound(NotFound):
    code = "policy_version_not_found"
    description = "No such policy version"


class WrongStatus(Conflict):
    code = "policy_status"
    description = "The version is not in a status that allows this step"


class ReasonRefused(ValidationFailed):
    code = "reason_refused"
    description = "A rejection needs its reason (at most 2,000 characters)"


class FourEyes(Forbidden):
    code = "four_eyes"
    description = "A version is approved or rejected by someone who did not write or submit it"


def save_policy(
    session: Session, text: str, *, author: str, clock: Clock, source: str
) -> PolicyVersion:
    """Store a policy as a version, a draft (the same text twice is one version). Invalid text
    is refused. A new version is audited (`policy.saved`)."""
    try:
        policy = parse_policy(text, source=source)
    except PolicyError as exc:
        raise InvalidPolicy(str(exc)) from exc
    return _store(session, policy, text, author=author, clock=clock)


def check_policy_text(text: str) -> Checked:
    """What the editor shows: the policy compiled, or its first problem at line and column."""
    return check(text, source="policy")


def save_draft(session: Session, text: str, *, author: str, clock: Clock) -> PolicyVersion:
    """The desk's save: a text checked as the editor checks it (at most `MAX_POLICY_CHARS`), the
    first problem a 422 naming its line, column and path (in `details`)."""
    checked = check_policy_text(text)
    if checked.problem is not None or checked.policy is None:
        p = checked.problem
        assert p is not None
        raise PolicyTextInvalid(
            f"text: line {p.line}, column {p.column}: "
            + (f"{p.path}: {p.message}" if p.path else p.message),
            details=[
                {
                    "field": "text",
                    "line": p.line,
                    "column": p.column,
                    "path": p.path,
                    "problem": p.message,
                }
            ],
        )
    return _store(session, checked.policy, text, author=author, clock=clock)


def _store(
    session: Session, policy: Policy, text: str, *, author: str, clock: Clock
) -> PolicyVersion:
    sha = hashlib.sha256(text.encode()).hexdigest()
    versions = PolicyVersionRepository(session)
    existing = versions.by_sha(sha)
    if existing is not None:
        return existing
    version = versions.create(
        PolicyVersion(
            name=policy.name,
            version=policy.version,
            sha256=sha,
            text=text,
            author=author,
            active=False,
            status="draft",
            created_at=clock.now(),
        )
    )
    audit_service.record(
        session,
        actor=author,
        action="policy.saved",
        subject_type="policy_version",
        subject_id=version.id,
        clock=clock,
        details={"name": version.name, "version": version.version, "sha256": sha},
    )
    return version


def get_version(session: Session, version_id: int) -> PolicyVersion:
    version = PolicyVersionRepository(session).get(version_id)
    if version is None:
        raise PolicyVersionNotFound(f"no policy version {version_id}")
    return version


def list_versions(session: Session, *, limit: int, offset: int) -> tuple[list[PolicyVersion], int]:
    """Versions, newest first, and how many there are."""
    versions = PolicyVersionRepository(session)
    return list(versions.newest_first(limit=limit, offset=offset)), versions.count()


def submit(session: Session, version_id: int, *, actor: str, clock: Clock) -> PolicyVersion:
    """A draft (or a rejected version, again) goes to a second person for approval."""
    versions = PolicyVersionRepository(session)
    version = versions.locked(version_id)
    if version is None:
        raise PolicyVersionNotFound(f"no policy version {version_id}")
    if version.status not in ("draft", "rejected"):
        raise WrongStatus(
            f"version {version_id} is {version.status}; only a draft or a rejected version "
            "is submitted"
        )
    versions.mark_submitted(version, at=clock.now(), by=actor)
    _audit(session, version, actor, "policy.submitted", clock)
    return version


def approve(session: Session, version_id: int, *, actor: str, clock: Clock) -> PolicyVersion:
    """A second person approves a submitted version: it becomes the active one (audited as
    approved, then activated). The author or the submitter is refused."""
    versions = PolicyVersionRepository(session)
    version = _under_review(versions, version_id, actor)
    versions.mark_reviewed(version, at=clock.now(), by=actor, rejected_for=None)
    _audit(session, version, actor, "policy.approved", clock)
    return activate(session, version.id, actor=actor, clock=clock)


def reject(
    session: Session, version_id: int, *, actor: str, reason: str, clock: Clock
) -> PolicyVersion:
    """A second person rejects a submitted version, with the reason (its author may change the
    text, which makes a new draft, or submit it again)."""
    reason = reason.strip()
    if not reason:
        raise ReasonRefused(
            "reason: say why the version is rejected",
            details=[{"field": "reason", "problem": "required"}],
        )
    if len(reason) > MAX_REASON_CHARS:
        raise ReasonRefused(
            f"reason: at most {MAX_REASON_CHARS:,} characters",
            details=[{"field": "reason", "problem": "too long"}],
        )
    versions = PolicyVersionRepository(session)
    version = _under_review(versions, version_id, actor)
    versions.mark_reviewed(version, at=clock.now(), by=actor, rejected_for=reason)
    _audit(session, version, actor, "policy.rejected", clock, reason=reason)
    return version


def _under_review(versions: PolicyVersionRepository, version_id: int, actor: str) -> PolicyVersion:
    version = versions.locked(version_id)
    if version is None:
        raise PolicyVersionNotFound(f"no policy version {version_id}")
    if version.status != "submitted":
        raise WrongStatus(f"version {version_id} is {version.status}, not submitted")
    if actor in (version.author, version.submitted_by):
        raise FourEyes(
            f"version {version_id} was written or submitted by {actor}; "
            "another person approves or rejects it"
        )
    return version


def _audit(
    session: Session,
    version: PolicyVersion,
    actor: str,
    action: str,
    clock: Clock,
    *,
    reason: str | None = None,
) -> None:
    details: dict[str, object] = {
        "name": version.name,
        "version": version.version,
        "sha256": version.sha256,
        "author": version.author,
    }
    if reason is not None:
        details["reason"] = reason
    audit_service.record(
        session,
        actor=actor,
        action=action,
        subject_type="policy_version",
        subject_id=version.id,
        clock=clock,
        details=details,
    )


def activate(session: Session, version_id: int, *, actor: str, clock: Clock) -> PolicyVersion:
    """The version becomes the active one (the previous one stops being so), audited."""
    versions = PolicyVersionRepository(session)
    chosen = versions.get(version_id)
    if chosen is None:
        raise PolicyVersionNotFound(f"no policy version {version_id}")
    previous = versions.active()
    versions.make_active(chosen, previous, at=clock.now(), by=actor)
    audit_service.record(
        session,
        actor=actor,
        action="policy.activated",
        subject_type="policy_version",
        subject_id=chosen.id,
        clock=clock,
        details={
            "name": chosen.name,
            "version": chosen.version,
            "sha256": chosen.sha256,
            "previous": previous.id if previous else None,
        },
    )
    return chosen


def compiled(version: PolicyVersion) -> Policy:
    """A stored version, parsed and compiled once per process (versions never change)."""
    return _compile(version.id, version.sha256, version.text)


@lru_cache(maxsize=16)
def _compile(version_id: int, _sha256: str, text: str) -> Policy:
    return parse_policy(text, source=f"policy version {version_id}")


def active_policy(session: Session) -> tuple[PolicyVersion, Policy]:
    version = PolicyVersionRepository(session).active()
    if version is None:
        raise NoActivePolicy("no policy is active; run `recoup strategy activate FILE`")
    return version, compiled(version)
