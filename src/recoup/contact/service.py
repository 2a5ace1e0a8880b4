"""Template versions: saved with the guard's verdict, used once a person approves them.

Saving renders a preview with sample data and runs the compliance content checks for every
jurisdiction the template may be used in; a template with problems is stored `rejected` with them
(so its author sees why) and cannot be approved. The shipped templates are seeded as approved
first versions by `recoup init`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recoup.audit import service as audit_service
from recoup.compliance import Guard, load_guard
from recoup.contact.templates import (
    MessageTemplate,
    TemplateProblem,
    check,
    render,
    sample,
    shipped,
)
from recoup.kit.clock import Clock
from recoup.kit.errors import Conflict, NotFound, ValidationFailed
from recoup.models import TemplateVersion

# Where a shipped or saved template may be used unless its author narrows it.
DEFAULT_JURISDICTIONS = ("CN", "US", "US-NY-NYC", "GB")


class TemplateRejected(Conflict):
    code = "template_rejected"


def save(
    session: Session,
    template: MessageTemplate,
    *,
    author: str,
    clock: Clock,
    jurisdictions: Iterable[str] = DEFAULT_JURISDICTIONS,
    guard: Guard | None = None,
) -> TemplateVersion:
    try:
        render(template, sample(template.language))
    except TemplateProblem as exc:
        raise ValidationFailed(str(exc)) from exc
    problems = [
        {"rule": r.rule, "code": r.code.value, "message": r.message}
        for r in check(template, guard or load_guard(), jurisdictions)
    ]
    latest = session.execute(
        select(func.max(TemplateVersion.version)).where(
            TemplateVersion.name == template.name,
            TemplateVersion.channel == template.channel,
            TemplateVersion.language == template.language,
            TemplateVersion.tone == template.tone,
        )
    ).scalar_one()
    version = TemplateVersion(
        name=template.name,
        channel=template.channel,
        language=template.language,
        tone=template.tone,
        version=(latest or 0) + 1,
        subject=template.subject,
        body=template.body,
        status="rejected" if problems else "draft",
        problems=problems,
        author=author,
        created_at=clock.now(),
    )
    session.add(version)
    session.flush()
    audit_service.record(
        session,
        actor=author,
        action="template.saved",
        subject_type="template_version",
        subject_id=version.id,
        clock=clock,
        details={"name": template.name, "language": template.language, "status": version.status},
    )
    return version


def approve(session: Session, version_id: int, *, actor: str, clock: Clock) -> TemplateVersion:
    version = session.get(TemplateVersion, version_id)
    if version is None:
        raise NotFound(f"no template version {version_id}")
    if version.status == "rejected":
        rules = ", ".join(sorted({p["rule"] for p in version.problems}))
        raise TemplateRejected(
            f"template version {version_id} failed the guard ({rules}); fix and save again"
        )
    version.status, version.approved_by, version.approved_at = "approved", actor, clock.now()
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="template.approved",
        subject_type="template_version",
        subject_id=version.id,
        clock=clock,
        details={"name": version.name, "version": version.version},
    )
    return version


def approved(
    session: Session, name: str, channel: str, language: str, tone: str
) -> TemplateVersion | None:
    """The latest approved version: what the dispatcher renders."""
    return session.execute(
        select(TemplateVersion)
        .where(
            TemplateVersion.name == name,
            TemplateVersion.channel == channel,
            TemplateVersion.language == language,
            TemplateVersion.tone == tone,
            TemplateVersion.status == "approved",
        )
        .order_by(TemplateVersion.version.desc())
        .limit(1)
    ).scalar_one_or_none()


def all_versions(session: Session) -> Sequence[TemplateVersion]:
    stmt = select(TemplateVersion).order_by(
        TemplateVersion.name,
        TemplateVersion.channel,
        TemplateVersion.language,
        TemplateVersion.tone,
        TemplateVersion.version,
    )
    return session.execute(stmt).scalars().all()


def seed(session: Session, *, clock: Clock) -> int:
    """Save and approve the shipped templates that have no version yet. Safe to run twice."""
    guard = load_guard()
    added = 0
    existing = {(v.name, v.channel, v.language, v.tone) for v in all_versions(session)}
    for template in shipped():
        if template.key in existing:
            continue
        version = save(session, template, author="recoup", clock=clock, guard=guard)
        approve(session, version.id, actor="recoup", clock=clock)
        added += 1
    return added
