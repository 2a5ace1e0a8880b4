"""Template versions: saved with the guard's verdict, used once another person approves them.

Saving renders a preview with sample data and runs the compliance content checks for every
jurisdiction the template may be used in; a template with problems is stored `rejected` with them
(so its author sees why) and cannot be submitted or approved. A version's life: `draft` (or
`rejected`) when saved, `submitted` for approval by anyone who may write templates, `approved` by
a person other than its author (four eyes), `retired` when a later approval of the same template
(name, channel, language, tone) replaces it: one approved version per template, the one the
dispatcher renders. The shipped templates are seeded as approved first versions by `recoup init`
(the system's own, no second person). Every step is audited.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from recoup.audit import service as audit_service
from recoup.compliance import Guard, check_content, deployment_guard
from recoup.compliance import record as verdict_record
from recoup.compliance.codes import Code
from recoup.config import get_settings
from recoup.contact import repository as repo
from recoup.contact.templates import (
    ASSISTANT,
    LANGUAGES,
    SERVICE,
    MessageTemplate,
    Rendered,
    TemplateProblem,
    check,
    opt_out_sample,
    render,
    sample,
    shipped,
)
from recoup.kit import partitions
from recoup.kit.clock import Clock
from recoup.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from recoup.kit.masking import mask_name
from recoup.kit.tokens import read_token
from recoup.ledger.repository import CustomerRepository
from recoup.models import (
    ContactMessage,
    ContactPlan,
    ContactStatus,
    TemplateVersion,
)
from recoup.models.contact import REPLANNABLE

# Where a shipped or saved template may be used unless its author narrows it.
DEFAULT_JURISDICTIONS = ("CN", "US", "US-NY-NYC", "GB")


class TemplateRejected(Conflict):
    code = "template_rejected"
    description = "The template version failed the guard"


class TemplateNotSubmitted(Conflict):
    code = "template_not_submitted"
    description = "Only a submitted draft is approved, only a draft is submitted"


class OwnTemplate(Forbidden):
    code = "own_template"
    description = "A template version is approved by a person other than its author"


def _version(session: Session, version_id: int) -> TemplateVersion:
    version = repo.template_version(session, version_id)
    if version is None:
        raise NotFound(f"no template version {version_id}")
    return version


def _refuse_rejected(version: TemplateVersion) -> None:
    if version.status == "rejected":
        rules = ", ".join(sorted({p["rule"] for p in version.problems}))
        raise TemplateRejected(
            f"template version {version.id} failed the guard ({rules}); fix and save again"
        )


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
        render(template, sample(template.language, template.channel))
    except TemplateProblem as exc:
        raise ValidationFailed(str(exc)) from exc
    problems = [
        {"rule": r.rule, "code": r.code.value, "message": r.message}
        for r in check(
            template, guard or deployment_guard(get_settings().compliance_house_file), jurisdictions
        )
    ]
    latest = repo.latest_template_version(
        session, template.name, template.channel, template.language, template.tone
    )
    version = repo.add_template_version(
        session,
        name=template.name,
        channel=template.channel,
        language=template.language,
        tone=template.tone,
        version=latest + 1,
        subject=template.subject,
        body=template.body,
        status="rejected" if problems else "draft",
        problems=problems,
        author=author,
        created_at=clock.now(),
    )
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


def submit(session: Session, version_id: int, *, actor: str, clock: Clock) -> TemplateVersion:
    """A draft put forward for approval. A rejected version is fixed by saving a new one."""
    version = _version(session, version_id)
    _refuse_rejected(version)
    if version.status != "draft":
        raise TemplateNotSubmitted(
            f"template version {version_id} is {version.status}; only a draft is submitted"
        )
    repo.set_template_status(session, version, "submitted")
    audit_service.record(
        session,
        actor=actor,
        action="template.submitted",
        subject_type="template_version",
        subject_id=version.id,
        clock=clock,
        details={"name": version.name, "language": version.language, "version": version.version},
    )
    return version


def approve(session: Session, version_id: int, *, actor: str, clock: Clock) -> TemplateVersion:
    """Four eyes: a submitted version, approved by someone other than its author. It replaces
    (retires) the template's approved version, if any, for the dispatcher."""
    version = _version(session, version_id)
    _refuse_rejected(version)
    if version.status != "submitted":
        raise TemplateNotSubmitted(
            f"template version {version_id} is {version.status}; submit it for approval first"
        )
    if actor == version.author:
        raise OwnTemplate(
            f"template version {version_id} is yours; another person approves it (four eyes)"
        )
    return _approve(session, version, actor=actor, clock=clock)


def _approve(
    session: Session, version: TemplateVersion, *, actor: str, clock: Clock
) -> TemplateVersion:
    retired = repo.approve_template_version(session, version, actor=actor, at=clock.now())
    audit_service.record(
        session,
        actor=actor,
        action="template.approved",
        subject_type="template_version",
        subject_id=version.id,
        clock=clock,
        details={
            "name": version.name,
            "language": version.language,
            "version": version.version,
            "author": version.author,
            "retired": retired,
        },
    )
    return version


def template_version(session: Session, version_id: int) -> TemplateVersion:
    return _version(session, version_id)


def check_draft(
    template: MessageTemplate,
    *,
    jurisdictions: Iterable[str] = DEFAULT_JURISDICTIONS,
    guard: Guard | None = None,
) -> tuple[Rendered, dict[str, list[dict[str, str]]]]:
    """What saving would say, without saving: the text rendered with sample data, and the guard's
    content problems per jurisdiction (none: allowed there). A text that does not render is a
    ValidationFailed naming the body."""
    try:
        rendered = render(template, sample(template.language, template.channel))
    except TemplateProblem as exc:
        raise ValidationFailed(f"body: {exc}") from exc
    guard = guard or deployment_guard(get_settings().compliance_house_file)
    return rendered, {
        j: [
            {"rule": r.rule, "code": r.code.value, "message": r.message}
            for r in check(template, guard, [j])
        ]
        for j in jurisdictions
    }


def preview(
    session: Session,
    template: MessageTemplate,
    account_id: int,
    *,
    creditor_name: str,
    support_phone: str,
    actor: str,
    clock: Clock,
    public_url: str = "https://pay.example",
) -> Rendered:
    """The text as the account's debtor would read it, masked for the person previewing: the
    debtor's name masked as the console shows it, the pay link's token masked (no link is signed;
    ASCII, so an SMS's length reads as a real one's would), the account's own amounts, due date
    and days past due. The look is on the customer's data-access log (a masked view), as a
    console page showing the customer is."""
    facts = repo.preview_facts(session, account_id)
    if facts is None:
        raise NotFound(f"account_id: no account {account_id}")
    audit_service.log_access(
        session,
        customer_id=facts.customer_id,
        actor=actor,
        kind="view",
        fields=["name"],
        reason="template preview (masked)",
        clock=clock,
    )
    due = repo.next_due(session, [account_id]).get(account_id)
    name = (facts.name or "").strip()
    first = name.split()[0] if " " in name else name
    variables = {
        "first_name": mask_name(first),
        "creditor_name": creditor_name,
        "amount_minor": due[1] if due else 0,
        "overdue_minor": facts.overdue_minor or 0,
        "currency": facts.currency,
        "due_date": due[0] if due else sample(template.language)["due_date"],
        "days_past_due": facts.dpd or 0,
        "pay_link": f"{public_url.rstrip('/')}/p/{'*' * 24}",
        "survey_link": f"{public_url.rstrip('/')}/p/{'*' * 24}/survey",
        "learn_link": f"{public_url.rstrip('/')}/p/{'*' * 24}/learn",
        "opt_out": opt_out_sample(template.channel, template.language),
        "support_phone": support_phone,
    }
    try:
        return render(template, variables)
    except TemplateProblem as exc:
        raise ValidationFailed(f"body: {exc}") from exc


def approved(
    session: Session, name: str, channel: str, language: str, tone: str
) -> TemplateVersion | None:
    """The latest approved version: what the dispatcher renders."""
    return repo.approved_template(session, name, channel, language, tone)


def all_versions(session: Session) -> Sequence[TemplateVersion]:
    return repo.template_versions(session)


def seed(session: Session, *, clock: Clock) -> int:
    """Save and approve the shipped templates that have no version yet. Safe to run twice."""
    guard = deployment_guard(get_settings().compliance_house_file)
    added = 0
    existing = {(v.name, v.channel, v.language, v.tone) for v in all_versions(session)}
    for template in shipped():
        if template.key in existing:
            continue
        version = save(session, template, author="recoup", clock=clock, guard=guard)
        _refuse_rejected(version)
        _approve(session, version, actor="recoup", clock=clock)  # the system's own: no four eyes
        added += 1
    return added


def read_link(token: str, *, keys: Sequence[bytes], clock: Clock) -> dict[str, Any]:
    """The payload of a genuine unsubscribe link; `BadSignature` (401) otherwise."""
    payload = read_token(keys, token, now=clock.now())
    if payload.get("k") != "unsubscribe":
        raise NotFound("not an unsubscribe link")
    return payload


def inbox(session: Session, customer_id: int, *, limit: int) -> Sequence[ContactMessage]:
    """The in-app messages delivered to the customer, newest first."""
    return repo.inbox(session, customer_id, limit=limit)


def mark_read(session: Session, message_id: int, *, clock: Clock) -> ContactMessage:
    message = repo.message(session, message_id)
    if message is None or message.channel != "in_app":
        raise NotFound(f"no in-app message {message_id}")
    if message.read_at is None:
        repo.mark_read(session, message, clock.now())
    return message


def contact(session: Session, contact_id: int) -> ContactPlan | None:
    return repo.contact(session, contact_id)


def of_account(session: Session, account_id: int, *, limit: int = 50) -> list[ContactPlan]:
    """An account's contacts, newest first (its contact timeline)."""
    return repo.of_account(session, account_id, limit=limit)


def explain(session: Session, contact_id: int) -> dict[str, Any]:
    """Why a contact was planned, what the guard said at plan and send time, what was sent (the
    debtor's name masked) and what happened after."""
    contact = repo.contact(session, contact_id)
    if contact is None:
        raise NotFound(f"no contact {contact_id}")
    decision = repo.decision_behind(session, contact)
    policy = repo.policy_version(session, decision.policy_version_id) if decision else None
    message = repo.message_of(session, contact_id)
    customer = CustomerRepository(session).get(contact.customer_id)
    events = repo.events_of(session, contact_id)
    guard = deployment_guard(get_settings().compliance_house_file)
    sent = None
    if message is not None:
        version = repo.template_version(session, message.template_version_id or 0)
        body, subject = message.body, message.subject
        if customer is not None and customer.name:
            body = _mask_name_in(body, customer.name)
            subject = _mask_name_in(subject, customer.name) if subject else None
        sent = {
            "template": f"{version.name} v{version.version} ({version.language}, {version.tone})"
            if version
            else None,
            "language": message.language,
            "subject": subject,
            "body": body,
            "read_at": message.read_at.isoformat() if message.read_at else None,
        }
    return {
        "contact": {
            "id": contact.id,
            "account_id": contact.account_id,
            "as_of_date": contact.as_of_date.isoformat(),
            "stage": contact.stage,
            "treatment": contact.treatment,
            "channel": contact.channel,
            "purpose": contact.purpose,
            "status": contact.status,
            "result": contact.result,  # a call's, as telephony or the agent reported it
            "scheduled_at": contact.scheduled_at.isoformat() if contact.scheduled_at else None,
            "attempts": contact.attempts,
            "provider": contact.provider,
            "provider_id": contact.provider_id,
            "reasons": contact.reasons,
        },
        "decision": None
        if decision is None
        else {
            "policy": f"{policy.name} {policy.version} (#{policy.id})" if policy else None,
            "segment": decision.segment,
            "experiment": decision.experiment,
            "arm": decision.arm,
            "decision": decision.decision,
            "treatment": decision.treatment,
            # The guard at plan time, told rule by rule (`compliance.record`); a decision
            # written before it kept its verdict keeps its reason codes only: `{"codes": [...]}`.
            "guard_at_plan": _told(decision.compliance, guard),
            # The learner's explanation when a learning stage chose the treatment (arm, value,
            # sd, cell, context facts, mode: learn, explore or holdout), else None.
            "learning": decision.learning,
        },
        "sent": sent,
        "history": [
            {
                "at": e.at.isoformat(),
                "status": e.status,
                "by": e.actor,
                "detail": e.detail,
                # The send-time check's verdict, told rule by rule, where the event kept it.
                "guard": _told(e.detail.get("guard"), guard)
                if isinstance(e.detail, dict)
                else None,
            }
            for e in events
        ],
    }


def _told(kept: Any, guard: Guard) -> dict[str, Any] | None:
    if isinstance(kept, dict):
        return verdict_record.as_json(verdict_record.rule_verdicts(guard, kept))
    if isinstance(kept, list):
        return {"codes": [str(c) for c in kept]}
    return None


def _mask_name_in(text: str, name: str) -> str:
    """The debtor's name masked in a message: whole, and each part of a name of several words, since
    the templates greet a Western name by its first word (`Hi Emily`, `Emily您好`)."""
    text = text.replace(name, mask_name(name))
    parts = name.split()
    if len(parts) > 1:
        for part in parts:
            text = re.sub(rf"(?<![A-Za-z]){re.escape(part)}(?![A-Za-z])", mask_name(part), text)
    return text


def dead_letters(session: Session, *, limit: int) -> Sequence[ContactPlan]:
    return repo.dead_letters(session, limit=limit)


def in_doubt(session: Session, *, limit: int) -> Sequence[ContactPlan]:
    """Contacts whose outcome is unknown: counted as sent by the caps, never resent blindly, until
    reconciliation asks the provider (docs/contact.md)."""
    return repo.in_doubt(session, limit=limit)


def status_counts(session: Session, day: dt.date) -> dict[str, int]:
    return repo.status_counts(session, day)


class NotADeadLetter(Conflict):
    code = "not_a_dead_letter"
    description = "The message is not a dead letter"


def retry(session: Session, contact_id: int, *, actor: str, clock: Clock) -> ContactPlan:
    """Requeue a dead letter with fresh attempts; the dispatcher checks it again before sending."""
    contact = repo.contact(session, contact_id)
    if contact is None:
        raise NotFound(f"no contact {contact_id}")
    if contact.status != ContactStatus.failed:
        raise NotADeadLetter(f"contact {contact_id} is {contact.status}, not a dead letter")
    repo.requeue(session, contact, actor=actor, now=clock.now())
    audit_service.record(
        session,
        actor=actor,
        action="contact.retried",
        subject_type="contact",
        subject_id=contact.id,
        clock=clock,
    )
    return contact


def planned_moments(session: Session, day: dt.date) -> list[dt.datetime]:
    """The distinct moments the contacts planned for `day` are due, in order."""
    return repo.planned_moments(session, day)


def sample_sent(session: Session, day: dt.date, channel: str) -> int | None:
    """A contact of `day` sent on `channel`, to show what the debtors received."""
    return repo.sample_sent(session, day, channel)


# Contact plans: the strategy decides them (frames), contact writes them, and every change of a
# plan's status after its creation is an event.


def record_plans(session: Session, plans: pl.DataFrame) -> int:
    """A day's new contact plans, as the daily run decided them (`strategy.service.plan_rows`)."""
    if plans.height == 0:
        return 0
    return repo.insert_plans(session, plans)


def plan_service_message(
    session: Session,
    *,
    account_id: int,
    customer_id: int,
    treatment: str,
    template: str,
    channel: str,
    now: dt.datetime,
    language: str | None = None,
) -> ContactPlan:
    """A service message (a one-time code, an opt-out's confirmation) through the outbox, due
    now: the dispatcher renders `template` (in `language`, else the customer's) and checks it
    again before it leaves."""
    if language is not None and language not in LANGUAGES:
        raise ValidationFailed(f"language must be one of {', '.join(sorted(LANGUAGES))}")
    return repo.add_plan(
        session,
        account_id=account_id,
        customer_id=customer_id,
        as_of_date=now.date(),
        stage="service",
        treatment=treatment,
        channel=channel,
        template=template,
        tone="gentle",
        status=ContactStatus.planned,
        scheduled_at=now,
        purpose="service",
        reasons=[],
        created_at=now,
        language=language,
    )


class AlreadyAnswered(Conflict):
    code = "already_answered"
    description = "The same answer went to the debtor today"


# The channels an answer to the debtor may take, in order: their own mobile unless they opted out
# of SMS, else the wallet's in-app inbox (which reaches the wallet's user and cannot be opted out
# of: it is where they read their own account).
ANSWER_CHANNELS = ("sms", "in_app")


def answer_channel(session: Session, customer_id: int) -> str:
    """The channel an answer to the debtor goes by (`ANSWER_CHANNELS`)."""
    index = repo.own_mobile_index(session, customer_id)
    if index is not None and not repo.opted_out(session, customer_id, "sms", index):
        return "sms"
    return "in_app"


def tell_debtor(
    session: Session,
    *,
    account_id: int,
    customer_id: int,
    template: str,
    subject: str,
    actor: str,
    clock: Clock,
) -> ContactPlan:
    """An answer a person gives the debtor (a settlement decided, a case received or answered):
    a service message through the outbox on the channel `answer_channel` picks, rendered by the
    dispatcher in the debtor's language from the approved template, checked again at send time
    (address, opt-out, provider). `subject` names what it answers (`case:12`)."""
    answers = SERVICE - ASSISTANT  # the assistant's own answers carry facts only it supplies
    if template not in answers:
        raise ValidationFailed(f"template must be one of {', '.join(sorted(answers))}")
    now = clock.now()
    treatment = f"{template}:{subject}"[:64]
    if repo.planned_today(session, customer_id, treatment, now.date()):
        raise AlreadyAnswered(f"template: the {template} answer went to the debtor today already")
    channel = answer_channel(session, customer_id)
    contact = plan_service_message(
        session,
        account_id=account_id,
        customer_id=customer_id,
        treatment=treatment,
        template=template,
        channel=channel,
        now=now,
    )
    audit_service.record(
        session,
        actor=actor,
        action="contact.answer_planned",
        subject_type="contact",
        subject_id=contact.id,
        clock=clock,
        details={"template": template, "channel": channel, "about": subject},
    )
    return contact


def assistant_answer(
    session: Session,
    *,
    account_id: int,
    customer_id: int,
    template: str,
    subject: int,
    channel: str | None,
    clock: Clock,
    detail: int | None = None,
    language: str | None = None,
) -> ContactPlan:
    """The assistant's answer to a debtor who wrote: a service message through the outbox on the
    channel they wrote on (`channel`; None: `answer_channel`'s), rendered and checked for forbidden
    content by the dispatcher. `subject` makes it one per turn (or per promise, for
    `assistant_promise`, whose amount and day the dispatcher reads from the promise). `detail`
    is a number the answer says that no table holds (`assistant_alternatives`: the days a
    promise may run), kept in the treatment after the subject; `language` the one to answer in
    when it is not the customer's (the language they wrote in)."""
    if template not in ASSISTANT:
        raise ValidationFailed(f"template must be one of {', '.join(sorted(ASSISTANT))}")
    now = clock.now()
    tail = "" if detail is None else f":{int(detail)}"
    return plan_service_message(
        session,
        account_id=account_id,
        customer_id=customer_id,
        treatment=f"{template}:{subject}{tail}",
        template=template,
        channel=channel or answer_channel(session, customer_id),
        now=now,
        language=language,
    )


def render_answer(
    session: Session,
    *,
    template: str,
    channel: str,
    language: str,
    variables: Mapping[str, Any],
    jurisdiction: str,
    creditor_name: str,
) -> str:
    """The approved text of one of the assistant's answers, for a page that shows it at once (the
    portal's chat), with the forbidden-content rules asked as the dispatcher asks them."""
    if template not in ASSISTANT:
        raise ValidationFailed(f"template must be one of {', '.join(sorted(ASSISTANT))}")
    version = repo.approved_template(session, template, channel, language, "gentle")
    if version is None:
        raise NotFound(f"no approved template {template} ({channel}, {language})")
    rendered = render(
        MessageTemplate(template, channel, language, "gentle", version.body, version.subject),
        variables,
    )
    forbidden = [
        r
        for r in check_content(
            deployment_guard(get_settings().compliance_house_file),
            rendered.body,
            language=language,
            channel=channel,
            jurisdiction=jurisdiction,
            creditor_name=creditor_name,
        )
        if r.code == Code.CONTENT_FORBIDDEN
    ]
    if forbidden:
        raise Conflict(f"template {template} says what the rules forbid: {forbidden[0].rule}")
    return rendered.body


def cancel_pending(
    session: Session,
    causes: Mapping[int, str],
    *,
    now: dt.datetime,
    actor: str,
) -> Counter[int]:
    """Cancel the accounts' collection contacts not sent yet (account → why), each with a
    `cancelled` event; how many, by account."""
    by_cause: dict[str, list[int]] = {}
    for account_id, cause in causes.items():
        by_cause.setdefault(cause, []).append(account_id)
    cancelled: Counter[int] = Counter()
    for cause, ids in by_cause.items():
        cancelled += repo.cancel_unsent(session, cause, now=now, actor=actor, accounts=ids)
    return cancelled


def replan(
    session: Session,
    plans: pl.DataFrame,
    *,
    now: dt.datetime,
    actor: str,
    causes: Mapping[int, str],
) -> int:
    """An event's re-decision plans the accounts' contacts of the day anew. A row the day already
    has for the same treatment is replaced while it has not left (`REPLANNABLE`): a cancelled,
    blocked, deferred or expired contact planned again gets a `revived` event saying from what to
    what and why, so its history never disagrees with its status. How many rows were written."""
    if plans.height == 0:
        return 0
    known = repo.plans_with_keys(
        session, plans["account_id"].unique().to_list(), plans["as_of_date"].unique().to_list()
    )
    events = []
    for account_id, day, treatment, status in plans.select(
        "account_id", "as_of_date", "treatment", "status"
    ).iter_rows():
        before = known.get((account_id, day, treatment))
        if before is not None and before[1] in REPLANNABLE:
            events.append(
                {
                    "contact_id": before[0],
                    "status": "revived",
                    "at": now,
                    "actor": actor,
                    "detail": {"from": before[1], "to": status, "reason": causes.get(account_id)},
                }
            )
    written = repo.upsert_plans(session, plans)
    repo.add_events(session, events)
    return written


def maintain_partitions(
    session: Session, day: dt.date, *, years: int, dry_run: bool = False
) -> partitions.Maintenance:
    """Contact plans' and events' monthly partitions on PostgreSQL: the months ahead made, the
    ones past `years` dropped unless held (`repository.PARTITIONS` says by what)."""
    return partitions.maintain(session, list(repo.PARTITIONS), day, years=years, dry_run=dry_run)
