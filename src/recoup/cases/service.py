"""What the debtor sees of being heard: the post-repayment survey (answered once per survey
message, its words sealed, its results read only as aggregates) and their own cases with a status
in words.

A case's status for the debtor: `received` while it is open and no person has taken its task,
`being_looked_at` once one has (the first `reassigned` to an agent or `taken` event of the case's
task), `answered` when it
is resolved (with the answer), `withdrawn` when it was withdrawn."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy.orm import Session

from recoup.audit import service as audit_service
from recoup.cases.repository import CaseRepository, SurveyRepository, first_taken
from recoup.kit.clock import Clock
from recoup.kit.errors import Conflict, ValidationFailed
from recoup.models import Case, CaseStatus, SurveyResponse

SCALE = range(1, 6)  # the survey's 1-5 scores
MAX_SURVEY_TEXT = 1_000
SHOWN_KINDS = ("complaint", "dispute", "hardship", "review")


class SurveyAnswered(Conflict):
    code = "survey_answered"
    description = "The survey was already answered for this message"


def survey_subject(contact_id: int | None) -> str:
    """What an answer is counted once for: the survey message the link came in, else the
    customer (a link no message carried)."""
    return f"contact:{contact_id}" if contact_id is not None else "customer"


def _score(value: str | int, what: str, question: str) -> int:
    text = str(value).strip()
    if text not in {str(k) for k in SCALE}:  # ASCII digits only: "３" is not a score
        raise ValidationFailed(
            f"{what}: choose 1 to 5", details={"reason": "survey_score", "question": question}
        )
    return int(text)


def answered(session: Session, customer_id: int, contact_id: int | None) -> bool:
    return SurveyRepository(session).answered(customer_id, survey_subject(contact_id)) is not None


def answer_survey(
    session: Session,
    customer_id: int,
    *,
    contact_id: int | None,
    treated: str | int,
    clear: str | int,
    again: str,
    text: str | None,
    clock: Clock,
) -> SurveyResponse:
    """The debtor's answer: scores 1-5, yes or no, words bounded and sealed. A second answer for
    the same message is refused (409), not merged: the first one stands."""
    subject = survey_subject(contact_id)
    repo = SurveyRepository(session)
    if repo.answered(customer_id, subject) is not None:
        raise SurveyAnswered(
            "you already answered this survey; thank you", details={"reason": "survey_answered"}
        )
    if again not in ("yes", "no"):
        raise ValidationFailed(
            "would you use self-service again: yes or no", details={"reason": "survey_again"}
        )
    words = (text or "").strip() or None
    if words is not None and len(words) > MAX_SURVEY_TEXT:
        raise ValidationFailed(
            f"the text is at most {MAX_SURVEY_TEXT:,} characters",
            details={"reason": "text_too_long", "most": MAX_SURVEY_TEXT},
        )
    row = repo.add(
        customer_id=customer_id,
        subject=subject,
        treated=_score(treated, "how you were treated", "treated"),
        clear=_score(clear, "how clear it was", "clear"),
        self_service_again=again == "yes",
        text=words,
        created_at=clock.now(),
    )
    audit_service.record(
        session,
        actor="debtor",
        action="survey.answered",
        subject_type="customer",
        subject_id=customer_id,
        clock=clock,
        details={"response": row.id, "subject": subject},
    )
    return row


@dataclass(frozen=True)
class SurveyResults:
    """The survey in aggregate: how many answered and the distribution of each answer."""

    n: int
    treated: dict[int, int]
    clear: dict[int, int]
    self_service_again: dict[str, int]


def survey_results(
    session: Session, *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> SurveyResults:
    rows = SurveyRepository(session).scores(since=since, until=until)
    treated = Counter(t for t, _, _ in rows)
    clear = Counter(c for _, c, _ in rows)
    again = Counter("yes" if a else "no" for _, _, a in rows)
    return SurveyResults(
        n=len(rows),
        treated={k: treated.get(k, 0) for k in SCALE},
        clear={k: clear.get(k, 0) for k in SCALE},
        self_service_again={k: again.get(k, 0) for k in ("yes", "no")},
    )


@dataclass(frozen=True)
class DebtorCase:
    """One of the debtor's cases as the portal shows it."""

    case: Case
    status: str  # received, being_looked_at, answered, withdrawn
    received_at: dt.datetime
    looked_at: dt.datetime | None
    answered_at: dt.datetime | None
    answer: str | None


def status_of(case: Case, taken_at: dt.datetime | None) -> str:
    if case.status == CaseStatus.resolved:
        return "answered"
    if case.status == CaseStatus.withdrawn:
        return "withdrawn"
    return "being_looked_at" if taken_at is not None else "received"


def debtor_cases(
    session: Session, customer_id: int, *, with_answers: bool = True, clock: Clock
) -> list[DebtorCase]:
    """The customer's own cases, newest first, each with its status in words and (with
    `with_answers`) its answer, decrypted for the customer themselves, which the data-access log
    notes."""
    cases = list(CaseRepository(session).for_customer(customer_id))
    cases = [c for c in cases if c.kind in SHOWN_KINDS]
    taken = first_taken(session, [c.id for c in cases])
    if with_answers and any(c.resolution for c in cases):
        audit_service.log_access(
            session,
            customer_id=customer_id,
            actor="customer",
            kind="view",
            fields=["cases.resolution"],
            reason="the customer read the answers to their own cases in the portal",
            clock=clock,
        )
    return [
        DebtorCase(
            case=c,
            status=status_of(c, taken.get(c.id)),
            received_at=c.created_at,
            looked_at=taken.get(c.id),
            answered_at=c.resolved_at,
            answer=c.resolution if with_answers and c.status == CaseStatus.resolved else None,
        )
        for c in cases
    ]
