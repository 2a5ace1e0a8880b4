"""Opening and resolving cases. A dispute or hardship case pauses the accounts it names (all the
customer's open accounts when it names none) in the same transaction: the strategy re-decides them
at once, their pending contacts are cancelled, and the guard sees `dispute_open` or `hardship` until
a person resolves the case. Every case puts a task in its queue for a person to handle."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from recoup.agents import service as agents_service
from recoup.audit import service as audit_service
from recoup.cases.repository import CaseRepository
from recoup.compliance import Guard, deployment_guard
from recoup.compliance.vocabulary import COLLECTOR_ROLE, jurisdiction_zones
from recoup.config import get_settings
from recoup.contact import service as contact_service
from recoup.delinquency import service as delinquency_service
from recoup.delinquency.repository import DelinquencyRepository
from recoup.kit.clock import Clock
from recoup.kit.errors import Conflict, NotFound, ValidationFailed
from recoup.ledger import service as ledger_service
from recoup.ledger.repository import AccountRepository, CustomerRepository
from recoup.models import Account, Case, CaseKind, CaseStatus, ContactPlan, PauseKind
from recoup.strategy import service as strategy_service

# The reasons a debtor can give, by kind; the portal and the API offer exactly these.
REASONS: dict[str, tuple[str, ...]] = {
    CaseKind.dispute: ("not_mine", "wrong_amount", "already_paid", "fraud", "other"),
    CaseKind.hardship: ("job_loss", "illness", "disaster", "family", "income_drop", "other"),
    CaseKind.complaint: ("too_many_contacts", "wrong_time", "rude", "privacy", "other"),
}
QUEUES: dict[str, str] = {
    CaseKind.dispute: "disputes",
    CaseKind.hardship: "hardship",
    CaseKind.complaint: "complaints",
    CaseKind.review: "reviews",
}
MAX_TEXT = 2_000
# A review of an automated decision is asked for through `request_review` (the portal's "my
# data"), not `open_case`: it has one reason, and asking again while it is open opens nothing.
REVIEW_REASON = "automated_decision"
MAX_REVIEW_TEXT = 1_000
KINDS: tuple[str, ...] = (*REASONS, CaseKind.review)  # every kind the inbox may be filtered by


# The cases that pause the accounts they name, and what their pauses stand for.
PAUSE_KINDS: dict[str, PauseKind] = {
    CaseKind.dispute: PauseKind.dispute,
    CaseKind.hardship: PauseKind.hardship,
}


def open_case(
    session: Session,
    customer_id: int,
    *,
    kind: str,
    reason: str,
    text: str | None,
    account_ref: str | None,
    opened_by: str,
    channel: str,
    clock: Clock,
) -> Case:
    if kind not in REASONS:
        raise ValidationFailed(
            f"kind must be one of {', '.join(REASONS)}", details={"reason": "case_kind"}
        )
    if reason not in REASONS[kind]:
        raise ValidationFailed(
            f"a {kind} reason is one of {', '.join(REASONS[kind])}",
            details={"reason": "case_reason"},
        )
    text = (text or "").strip() or None
    if text is not None and len(text) > MAX_TEXT:
        raise ValidationFailed(
            f"the text is at most {MAX_TEXT:,} characters",
            details={"reason": "text_too_long", "most": MAX_TEXT},
        )
    accounts = _accounts(session, customer_id, account_ref)
    now = clock.now()
    cases = CaseRepository(session)
    case = cases.add(
        customer_id=customer_id,
        account_id=accounts[0].id if account_ref else None,
        kind=kind,
        reason=reason,
        text=text,
        status=CaseStatus.open,
        opened_by=opened_by,
        channel=channel,
        created_at=now,
    )
    for account in accounts:
        if kind in PAUSE_KINDS:
            today = delinquency_service.business_today(
                ledger_service.product(session, account.product_code), clock
            )
            pause = delinquency_service.add_pause(
                session,
                account,
                start=today,  # so that today's re-decision already sees it
                end=None,
                kind=PAUSE_KINDS[kind],
                reason=f"{kind} case {case.id}",  # for people: the kind and the case are read
                by=opened_by,
                clock=clock,
                exclusive=False,
                case_id=case.id,
            )
            cases.held_pause(case, pause.id)
            strategy_service.redecide(session, account.id, clock=clock, cause=f"{kind} opened")
        agents_service.open_tasks(
            session,
            [
                {
                    "account_id": account.id,
                    "as_of_date": now.date(),
                    "queue": QUEUES[kind],
                    "priority": 100.0 if kind == CaseKind.dispute else 50.0,
                    "source": "case",
                    "subject_id": case.id,
                    "created_at": now,
                }
            ],
        )
    session.flush()
    audit_service.record(
        session,
        actor=opened_by,
        action=f"case.{kind}.opened",
        subject_type="customer",
        subject_id=customer_id,
        clock=clock,
        details={
            "case": case.id,
            "reason": reason,
            "accounts": [a.id for a in accounts],
            "channel": channel,
        },
    )
    return case


def resolve_case(session: Session, case_id: int, *, resolution: str, by: str, clock: Clock) -> Case:
    """A person answered the case: its pauses end (today counts again) and the accounts are
    decided again."""
    cases = CaseRepository(session)
    case = cases.get(case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    if case.status != CaseStatus.open:
        raise Conflict(f"case {case_id} is {case.status}")
    resolution = resolution.strip()
    if not resolution:
        raise ValidationFailed("say how the case was resolved")
    cases.resolve(case, resolution=resolution[:MAX_TEXT], by=by, at=clock.now())
    agents_service.done(session, cases.open_tasks(case.id), now=clock.now())
    pauses = DelinquencyRepository(session).open_for_case(case.id)
    for pause in pauses:
        account = ledger_service.get_account(session, pause.account_id)
        today = delinquency_service.business_today(
            ledger_service.product(session, account.product_code), clock
        )
        delinquency_service.lift_pause(  # today is no longer paused
            session, account, pause, last_day=today - dt.timedelta(days=1), clock=clock
        )
        strategy_service.redecide(session, account.id, clock=clock, cause=f"{case.kind} resolved")
    if case.kind == CaseKind.review:  # a person answered: the policy decides for them again
        for account_id in _reviewed_accounts(session, case):
            strategy_service.redecide(session, account_id, clock=clock, cause="review resolved")
    session.flush()
    audit_service.record(
        session,
        actor=by,
        action=f"case.{case.kind}.resolved",
        subject_type="customer",
        subject_id=case.customer_id,
        clock=clock,
        details={"case": case.id},
    )
    return case


def request_review(
    session: Session,
    customer_id: int,
    *,
    account_ref: str | None,
    text: str | None,
    opened_by: str,
    channel: str,
    clock: Clock,
) -> tuple[Case, bool]:
    """The debtor asks a person to review the automated decisions about an account (all their
    open accounts when `account_ref` is None): PIPL art. 24 lets a person refuse a decision made
    solely by automated means. The case sits in the `reviews` queue; until a person resolves it,
    the strategy's fact `review_requested` holds for the account and the shipped policies pause
    on it (no automated contact, hand-off or offer; pending contacts are cancelled now by the
    re-decision), so nothing automated decides for the account meanwhile.

    Idempotent: while a review of the same account (or of all accounts) is open, asking again
    returns it, with False, and records nothing. Returns the case and whether it is new."""
    text = (text or "").strip() or None
    if text is not None and len(text) > MAX_REVIEW_TEXT:
        raise ValidationFailed(
            f"the text is at most {MAX_REVIEW_TEXT:,} characters",
            details={"reason": "text_too_long", "most": MAX_REVIEW_TEXT},
        )
    accounts = _accounts(session, customer_id, account_ref)
    account_id = accounts[0].id if account_ref else None
    cases = CaseRepository(session)
    held = cases.open_review(customer_id, account_id)
    if held is not None:
        return held, False
    now = clock.now()
    case = cases.add(
        customer_id=customer_id,
        account_id=account_id,
        kind=CaseKind.review,
        reason=REVIEW_REASON,
        text=text,
        status=CaseStatus.open,
        opened_by=opened_by,
        channel=channel,
        created_at=now,
    )
    for account in accounts:
        strategy_service.redecide(session, account.id, clock=clock, cause="review requested")
    agents_service.open_tasks(
        session,
        [
            {
                "account_id": account.id,
                "as_of_date": now.date(),
                "queue": QUEUES[CaseKind.review],
                "priority": 80.0,
                "source": "case",
                "subject_id": case.id,
                "created_at": now,
            }
            for account in accounts
        ],
    )
    session.flush()
    audit_service.record(
        session,
        actor=opened_by,
        action="case.review.opened",
        subject_type="customer",
        subject_id=customer_id,
        clock=clock,
        details={
            "case": case.id,
            "reason": REVIEW_REASON,
            "accounts": [a.id for a in accounts],
            "channel": channel,
        },
    )
    return case, True


def _reviewed_accounts(session: Session, case: Case) -> list[int]:
    if case.account_id is not None:
        return [case.account_id]
    return list(AccountRepository(session).open_ids_of_customer(case.customer_id))


@dataclass(frozen=True)
class Due:
    """When a case must be answered by, and the rule that says so (`compliance` packs'
    `deadlines`: the debtor's jurisdiction's own pack, else the house default)."""

    date: dt.date
    overdue: bool
    rule: str | None
    citation: str | None
    confidence: str | None
    days: int | None


@dataclass(frozen=True)
class InboxCase:
    case: Case
    jurisdiction: str
    due: Due


INBOX_LIMIT = 200


def due_of(
    case: Case,
    *,
    jurisdiction: str,
    collector: str,
    guard: Guard,
    today: dt.date | None,
    clock: Clock,
) -> Due:
    """The answer deadline: the day the case was opened (in the debtor's place) plus the rule's
    calendar days; overdue while it is open past that day."""
    zone = ZoneInfo(jurisdiction_zones(jurisdiction)[0])
    opened = case.created_at.astimezone(zone).date()
    now = today or clock.now().astimezone(zone).date()
    rule = guard.deadline(jurisdiction, COLLECTOR_ROLE.get(collector, "creditor"), case.kind)
    if rule is None:  # no pack says: the house's 30 days
        return Due(opened + dt.timedelta(days=30), False, None, None, None, 30)
    day = opened + dt.timedelta(days=rule.days)
    return Due(
        day,
        case.status == CaseStatus.open and now > day,
        rule.id,
        rule.citation,
        rule.confidence,
        rule.days,
    )


def inbox(
    session: Session,
    *,
    kind: str | None,
    status: str | None,
    clock: Clock,
    actor: str,
    limit: int = INBOX_LIMIT,
    guard: Guard | None = None,
) -> list[InboxCase]:
    """The cases inbox: each case with its answer deadline. The debtor's own words are decrypted
    for the reader, so each customer shown is noted in the data-access log."""
    if kind is not None and kind not in KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(KINDS)}")
    if status is not None and status not in tuple(CaseStatus):
        raise ValidationFailed(f"status must be one of {', '.join(CaseStatus)}")
    rows = CaseRepository(session).inbox(kind=kind, status=status, limit=limit)
    out = _with_due(
        session,
        rows,
        guard=guard or deployment_guard(get_settings().compliance_house_file),
        clock=clock,
    )
    for customer_id in sorted({c.customer_id for c in rows if c.text}):
        audit_service.log_access(
            session,
            customer_id=customer_id,
            actor=actor,
            kind="view",
            fields=["cases.text"],
            reason="cases inbox",
            clock=clock,
        )
    return out


def view(
    session: Session, case_id: int, *, clock: Clock, actor: str, guard: Guard | None = None
) -> InboxCase:
    """One case for the person answering it, its words decrypted (a logged view)."""
    case = CaseRepository(session).get(case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    audit_service.log_access(
        session,
        customer_id=case.customer_id,
        actor=actor,
        kind="view",
        fields=["cases.resolution", "cases.text"],
        reason=f"case {case.id}",
        clock=clock,
    )
    return _with_due(
        session,
        [case],
        guard=guard or deployment_guard(get_settings().compliance_house_file),
        clock=clock,
    )[0]


def due_dates(
    session: Session, cases: Sequence[Case], *, guard: Guard, clock: Clock
) -> dict[int, Due]:
    """Each case's answer deadline, as the cases inbox shows it to staff and "my requests" to
    the debtor: one computation, so the date the debtor is promised is the one staff work to."""
    return {c.case.id: c.due for c in _with_due(session, cases, guard=guard, clock=clock)}


def _with_due(
    session: Session, cases: Sequence[Case], *, guard: Guard, clock: Clock
) -> list[InboxCase]:
    """The deadline follows who collects: the pack's for the collector role of the case's account
    (a third party's where an agency holds it), and for a case naming no account (all of them)
    the earliest over the roles of the customer's open accounts, so it holds for each."""
    customers = CustomerRepository(session)
    repository = AccountRepository(session)
    accounts = repository.by_ids({c.account_id for c in cases if c.account_id})
    roles_of: dict[int, list[str]] = {}
    out = []
    for case in cases:
        customer = customers.get(case.customer_id)
        jurisdiction = customer.jurisdiction if customer is not None else "*"
        account = accounts.get(case.account_id) if case.account_id else None
        if account is not None:
            collectors = [account.collector]
        else:
            if case.customer_id not in roles_of:
                held = repository.open_of_customer(case.customer_id)
                roles_of[case.customer_id] = sorted({a.collector for a in held}) or ["creditor"]
            collectors = roles_of[case.customer_id]
        due = min(
            (
                due_of(
                    case,
                    jurisdiction=jurisdiction,
                    collector=collector,
                    guard=guard,
                    today=None,
                    clock=clock,
                )
                for collector in collectors
            ),
            key=lambda d: d.date,
        )
        out.append(InboxCase(case, jurisdiction, due))
    return out


REPLIES = ("case_received", "case_answered")


def reply(session: Session, case_id: int, *, template: str, by: str, clock: Clock) -> ContactPlan:
    """A message to the debtor about their case through the outbox (`contact.service.tell_debtor`:
    their language, an allowed channel, checked again when it leaves)."""
    if template not in REPLIES:
        raise ValidationFailed(f"template must be one of {', '.join(REPLIES)}")
    case = CaseRepository(session).get(case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    account_id = case.account_id or next(
        iter(AccountRepository(session).open_ids_of_customer(case.customer_id)), None
    )
    if account_id is None:
        raise Conflict(f"case {case_id}: the customer has no open account to write about")
    contact = contact_service.tell_debtor(
        session,
        account_id=account_id,
        customer_id=case.customer_id,
        template=template,
        subject=f"case:{case.id}",
        actor=by,
        clock=clock,
    )
    audit_service.record(
        session,
        actor=by,
        action=f"case.{case.kind}.replied",
        subject_type="customer",
        subject_id=case.customer_id,
        clock=clock,
        details={"case": case.id, "template": template, "contact": contact.id},
    )
    return contact


def cases_of(session: Session, customer_id: int) -> list[Case]:
    return list(CaseRepository(session).for_customer(customer_id))


def _accounts(session: Session, customer_id: int, account_ref: str | None) -> list[Account]:
    accounts = list(
        AccountRepository(session).open_of_customer(customer_id, external_ref=account_ref or None)
    )
    if account_ref and not accounts:
        # another customer's answers exactly as a missing one
        raise NotFound("no such account", details={"reason": "no_account"})
    return accounts
