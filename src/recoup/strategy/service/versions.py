"""Policy versions: a policy's text stored once as a version, one version active, and the active
one compiled once per process (versions never change)."""

from __future__ import annotations

import hashlib
from functools import lru_cache

from sqlalchemy.orm import Session

from recoup.audit import service as audit_service
from recoup.kit.clock import Clock
from recoup.kit.errors import Conflict, NotFound
from recoup.models import PolicyVersion
from recoup.strategy.policy import Policy, PolicyError, parse_policy
from recoup.strategy.repository import PolicyVersionRepository


class NoActivePolicy(Conflict):
    code = "no_active_policy"
    description = "No policy is active"


class InvalidPolicy(Conflict):
    code = "invalid_policy"
    description = "The policy does not validate"


def save_policy(
    session: Session, text: str, *, author: str, clock: Clock, source: str
) -> PolicyVersion:
    """Store a policy as a version (the same text twice is one version). Invalid text is refused."""
    try:
        policy = parse_policy(text, source=source)
    except PolicyError as exc:
        raise InvalidPolicy(str(exc)) from exc
    sha = hashlib.sha256(text.encode()).hexdigest()
    versions = PolicyVersionRepository(session)
    existing = versions.by_sha(sha)
    if existing is not None:
        return existing
    return versions.create(
        PolicyVersion(
            name=policy.name,
            version=policy.version,
            sha256=sha,
            text=text,
            author=author,
            active=False,
            created_at=clock.now(),
        )
    )


def activate(session: Session, version_id: int, *, actor: str, clock: Clock) -> PolicyVersion:
    """The version becomes the active one (the previous one stops being so), audited."""
    versions = PolicyVersionRepository(session)
    chosen = versions.get(version_id)
    if chosen is None:
        raise NotFound(f"no policy version {version_id}")
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
