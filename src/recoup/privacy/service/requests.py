"""Data-subject requests (PIPL Arts. 44–47, GDPR Arts. 15, 17).

- Export: everything held about a person, in one JSON document: identity and contacts (decrypted:
  it is their own data), accounts, bills, payments, delinquency and its history, consents, erasure
  requests, who looked at their data and why, and the audit events about them (actions and times;
  the hashes of states, not the states). The export itself goes on their data-access log.
- Erasure: honoured, or refused with the legal ground and, where there is one, the date from which
  it will be honoured. While an amount is owed the data serve a legal claim (GDPR Art. 17(3)(e);
  PIPL Art. 47 lets storage continue while a legal retention duty runs); once settled, records are
  kept for the jurisdiction's retention period after the last activity, then the person is erased
  by anonymising: name and ID replaced, contacts deleted, the wallet's reference unlinked. Amounts,
  dates and the audit chain stay, since they identify no one once the person is gone.
- Retention: `run_retention` erases everyone whose accounts are all closed and settled and whose
  retention period has run, and carries out scheduled erasure requests that have come due.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from recoup.audit import service as audit_service
from recoup.kit.clock import Clock
from recoup.kit.errors import NotFound
from recoup.ledger import service as ledger_service
from recoup.ledger.repository import CustomerRepository
from recoup.models import Consent, Customer, ErasureRequest, ErasureStatus, OptOut
from recoup.privacy import repository as repo
from recoup.privacy.repository import ConsentRepository, ErasureRepository
from recoup.privacy.service.decisions import AccountDecisions, automated_decisions

# Years records are kept after the last activity, per debtor jurisdiction (country), with the source.
RETENTION: dict[str, tuple[int, str]] = {
    "CN": (
        5,
        "collection records kept at least 5 years (NIFA 2018 公约; 消费金融公司管理办法 2024) [S]",
    ),
    "US": (3, "12 CFR 1006.100: records kept until 3 years after the last collection activity [P]"),
    "GB": (6, "Limitation Act 1980 s.5: contract claims for six years [M]"),
    "IE": (6, "Statute of Limitations 1957 s.11: contract claims for six years [M]"),
}
DEFAULT_RETENTION = (5, "Recoup house default where no rule is configured")
ERASED_NAME = "(erased)"


class CustomerNotFound(NotFound):
    code = "customer_not_found"
    description = "No such customer"


def retention_of(jurisdiction: str) -> tuple[int, str]:
    return RETENTION.get(jurisdiction.split("-")[0], DEFAULT_RETENTION)


def _customer(session: Session, customer_id: int) -> Customer:
    customer = CustomerRepository(session).get(customer_id)
    if customer is None:
        raise CustomerNotFound(f"no customer {customer_id}")
    return customer


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


def export(
    session: Session, customer_id: int, *, actor: str, reason: str, clock: Clock
) -> dict[str, Any]:
    customer = _customer(session, customer_id)
    accounts = repo.accounts_of(session, customer.id)
    ids = [a.id for a in accounts]
    states, events = repo.delinquency_of(session, ids)
    years, ground = retention_of(customer.jurisdiction)
    full = CustomerRepository(session).by_id(customer.id)
    assert full is not None
    document: dict[str, Any] = {
        "generated_at": clock.now().isoformat(),
        "legal_basis": "PIPL Art. 45; GDPR Art. 15",
        "controller_note": "Personal data held by Recoup on behalf of the creditor, for collecting "
        "the debts listed below (contract performance; legal claims).",
        "retention": {"years_after_last_activity": years, "source": ground},
        "person": {
            "id": customer.id,
            "wallet_reference": customer.external_ref,
            "name": customer.name,
            "national_id": customer.national_id,
            "preferred_language": customer.preferred_language,
            "birth_year": customer.birth_year,
            "sex": customer.sex,
            "jurisdiction": customer.jurisdiction,
            "time_zones": customer.timezones,
            "phones": [
                {"number": p.number, "type": p.type, "source": p.source} for p in full.phones
            ],
            "emails": [{"address": e.address, "source": e.source} for e in full.emails],
            "addresses": [
                {
                    "country": a.country,
                    "region": a.region,
                    "city": a.city,
                    "postal_code": a.postal_code,
                    "line": a.line,
                }
                for a in full.addresses
            ],
        },
        "accounts": [
            {
                "reference": a.external_ref,
                "product": a.product_code,
                "currency": a.currency,
                "opened": _iso(a.opened_date),
                "closed": _iso(a.closed_date),
                "status": a.status,
                "collected_by": a.collector,
                "agency": a.agency_ref,
                "credit_minor": a.credit_minor,
            }
            for a in accounts
        ],
        "bills": [
            {
                "account": b.account_id,
                "reference": b.external_ref,
                "due": _iso(b.due_date),
                "principal_minor": b.principal_minor,
                "interest_minor": b.interest_minor,
                "fees_minor": b.fees_minor,
                "paid_minor": b.paid_minor,
                "paid_off": _iso(b.paid_off_date),
            }
            for b in repo.bills_of(session, ids)
        ],
        "payments": [
            {
                "account": p.account_id,
                "reference": p.external_id,
                "amount_minor": p.amount_minor,
                "currency": p.currency,
                "received_at": _iso(p.received_at),
                "value_date": _iso(p.value_date),
                "source": p.source,
                "reversed_at": _iso(p.reversed_at),
                "reversal_reason": p.reversal_reason,
            }
            for p in repo.payments_of(session, ids)
        ],
        "delinquency": [
            {
                "account": s.account_id,
                "as_of": _iso(s.as_of_date),
                "days_past_due": s.dpd,
                "bucket": s.bucket,
                "overdue_minor": s.overdue_minor,
            }
            for s in states
        ],
        "delinquency_history": [
            {
                "account": e.account_id,
                "date": _iso(e.effective_date),
                "from": e.from_bucket,
                "to": e.to_bucket,
                "days_past_due": e.dpd,
                "cause": e.cause,
            }
            for e in events
        ],
        "consents": [
            _consent_json(c) for c in ConsentRepository(session).for_customer(customer.id)
        ],
        "erasure_requests": [
            {
                "requested_at": _iso(r.created_at),
                "status": r.status,
                "ground": r.ground,
                "not_before": _iso(r.not_before),
            }
            for r in ErasureRepository(session).for_customer(customer.id)
        ],
        "messages": [
            {
                "at": _iso(m.created_at),
                "channel": c.channel,
                "purpose": c.purpose,
                "status": c.status,
                "subject": m.subject,
                "body": m.body,
            }
            for c, m in repo.messages_to(session, customer.id)
        ],
        "opt_outs": [
            {
                "channel": o.channel,
                "at": _iso(o.created_at),
                "source": o.source,
                "withdrawn_at": _iso(o.withdrawn_at),
            }
            for o in repo.opt_outs_of(session, customer.id)
        ],
        "arrangements": [
            {
                "account": a.account_id,
                "kind": a.kind,
                "status": a.status,
                "amount_minor": a.amount_minor,
                "fee_minor": a.fee_minor,
                "currency": a.currency,
                "start": _iso(a.start_date),
                "due": _iso(a.due_date),
                "paid_minor": a.paid_minor,
                "ended_on": _iso(a.ended_on),
            }
            for a in repo.arrangements_of(session, customer.id)
        ],
        "cases": [
            {
                "kind": c.kind,
                "reason": c.reason,
                "text": c.text,
                "status": c.status,
                "opened_at": _iso(c.created_at),
                "resolved_at": _iso(c.resolved_at),
                "resolution": c.resolution,
            }
            for c in repo.cases_of(session, customer.id)
        ],
        "automated_decisions": [
            _decisions_json(a) for a in automated_decisions(session, customer.id, language="en")
        ],
        "notes": [
            {"account": n.account_id, "by": n.author, "at": _iso(n.created_at), "text": n.text}
            for n in repo.notes_of(session, ids)
        ],
        "who_used_my_data": [
            {"at": _iso(d.at), "who": d.actor, "what": d.kind, "fields": d.fields, "why": d.reason}
            for d in repo.access_log(session, customer.id)
        ],
        "audit_events": [
            {
                "seq": e.seq,
                "at": _iso(e.at),
                "actor": e.actor,
                "action": e.action,
                "subject": f"{e.subject_type}:{e.subject_id}",
            }
            for e in repo.audit_about(session, customer.id, ids)
        ],
    }
    audit_service.log_access(
        session,
        customer_id=customer.id,
        actor=actor,
        kind="export",
        fields=["everything"],
        reason=reason,
        clock=clock,
    )
    audit_service.record(
        session,
        actor=actor,
        action="privacy.exported",
        subject_type="customer",
        subject_id=customer.id,
        clock=clock,
        details={"reason": reason},
    )
    return document


def _decisions_json(a: AccountDecisions) -> dict[str, Any]:
    """PIPL art. 24 in the export: the scores with their reasons (in English: the export's
    language; the "my data" page says them in the debtor's), the latest decision, the reviews."""
    d = a.decision
    return {
        "account": a.account_id,
        "scores": [
            {"kind": s.kind, "as_of": _iso(s.as_of), "score": s.score, "reasons": s.reasons}
            for s in a.scores
        ],
        "latest_decision": None
        if d is None
        else {
            "as_of": _iso(d.as_of),
            "decision": d.decision,
            "stage": d.stage,
            "treatment": d.treatment,
            "pause_reason": d.pause_reason,
            "segment": d.segment,
            "experiment": d.experiment,
            "arm": d.arm,
            "learned_arm": d.learned_arm,
            "channel": d.channel,
        },
        "reviews": [
            {"opened_at": _iso(c.created_at), "status": c.status, "resolution": c.resolution}
            for c in a.reviews
        ],
    }


def _consent_json(c: Consent) -> dict[str, Any]:
    return {
        "purpose": c.purpose,
        "channel": c.channel,
        "scope": c.scope,
        "evidence": c.evidence,
        "source": c.source,
        "given_at": _iso(c.given_at),
        "expires_at": _iso(c.expires_at),
        "withdrawn_at": _iso(c.withdrawn_at),
    }


@dataclass(frozen=True)
class ErasureDecision:
    request: ErasureRequest

    @property
    def status(self) -> str:
        return self.request.status


def request_erasure(
    session: Session, customer_id: int, *, actor: str, reason: str, clock: Clock
) -> ErasureRequest:
    """Decide an erasure request now: done, scheduled for a date, or refused with the ground."""
    customer = _customer(session, customer_id)
    now = clock.now()
    status, ground, not_before = _grounds(session, customer, now.date())
    request = ErasureRepository(session).create(
        ErasureRequest(
            customer_id=customer.id,
            requested_by=actor,
            reason=reason,
            status=status,
            ground=ground,
            not_before=not_before,
            decided_at=now,
            created_at=now,
        )
    )
    audit_service.record(
        session,
        actor=actor,
        action=f"privacy.erasure_{status}",
        subject_type="customer",
        subject_id=customer.id,
        clock=clock,
        details={"ground": ground, "not_before": _iso(not_before)},
    )
    if status == ErasureStatus.done:
        _erase(session, customer, actor=actor, clock=clock)
        request.done_at = now
    return request


def _grounds(
    session: Session, customer: Customer, today: dt.date
) -> tuple[str, str | None, dt.date | None]:
    owed = repo.owed_minor(session, customer.id)
    if owed > 0 or repo.open_accounts(session, customer.id):
        return (
            ErasureStatus.refused,
            "an amount is still owed or an account is open: the data serve a legal claim "
            "(GDPR Art. 17(3)(e); PIPL Art. 47(2)). Ask again once the debt is settled.",
            None,
        )
    years, source = retention_of(customer.jurisdiction)
    last = repo.last_activity(session, customer)
    until = _add_years(last, years)
    if today < until:
        return (
            ErasureStatus.scheduled,
            f"records are kept {years} years after the last activity ({last.isoformat()}): "
            f"{source}; erased on {until.isoformat()}",
            until,
        )
    return ErasureStatus.done, None, None


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _erase(session: Session, customer: Customer, *, actor: str, clock: Clock) -> None:
    ledger_service.erase_customer(
        session, customer, name=ERASED_NAME, external_ref=f"erased-{customer.id}"
    )
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="privacy.erased",
        subject_type="customer",
        subject_id=customer.id,
        clock=clock,
    )


@dataclass
class RetentionReport:
    erased: int = 0
    requests_done: int = 0


def run_retention(session: Session, *, as_of: dt.date, clock: Clock) -> RetentionReport:
    """Erase whoever's retention has run (all accounts closed and settled) and carry out scheduled
    erasure requests that have come due."""
    report = RetentionReport()
    now = clock.now()
    for request in ErasureRepository(session).due(ErasureStatus.scheduled, as_of):
        customer = _customer(session, request.customer_id)
        status, _, _ = _grounds(session, customer, as_of)
        if status == ErasureStatus.done:
            _erase(session, customer, actor="retention", clock=clock)
            request.status, request.done_at = ErasureStatus.done, now
            report.requests_done += 1
    for customer in repo.closed_customers(session):
        status, _, _ = _grounds(session, customer, as_of)
        if status == ErasureStatus.done:
            _erase(session, customer, actor="retention", clock=clock)
            report.erased += 1
    session.flush()
    return report


def erasure_requests(session: Session, customer_id: int) -> list[ErasureRequest]:
    """A person's erasure requests, oldest first, with their status and ground."""
    customer = _customer(session, customer_id)
    return list(ErasureRepository(session).for_customer(customer.id))


def opt_outs_of(session: Session, customer_id: int) -> list[OptOut]:
    """A person's opt-outs, in force or withdrawn, with their source and evidence."""
    customer = _customer(session, customer_id)
    return list(repo.opt_outs_of(session, customer.id))
