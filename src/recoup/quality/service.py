"""QA sampling and review.

A sample is drawn from the messages that left and the calls agents placed in a period (UTC dates,
both included): the population in id order, then `random.Random(seed).sample`, so the same seed
over the same period and record draws the same contacts (a regulator or a second reviewer can
reproduce it). Each drawn contact is a review, pending until a person answers the checklist
(`CHECKLIST`: yes, no, or n/a each) and writes findings; any "no" fails it.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from recoup.audit import service as audit_service
from recoup.kit.clock import Clock
from recoup.kit.errors import Conflict, NotFound, ValidationFailed
from recoup.models import QaReview, QaSample
from recoup.quality import repository as repo
from recoup.quality.repository import ReviewRepository, SampleRepository

CHECKLIST = (
    "identified_self",  # the collector named itself and the creditor
    "right_party_verified",  # spoke to / wrote to the debtor, verified before the debt was named
    "no_threat",  # no threat, abuse or false statement (FDCPA 1692d-e; 互联网金融逾期债务催收自律公约)
    "correct_amount",  # the amount stated is what is owed
    "within_hours",  # at a time the debtor's rules allow
    "disclosure_given",  # the required disclosure (mini-Miranda, the right to dispute)
)
ANSWERS = ("yes", "no", "na")
MAX_SIZE = 200
MAX_DAYS = 92
MAX_SEED = 2**31 - 1
MAX_FINDINGS = 2_000


class SampleNotFound(NotFound):
    code = "qa_sample_not_found"
    description = "No such QA sample"


class ReviewNotFound(NotFound):
    code = "qa_review_not_found"
    description = "No such QA review item"


class AlreadyReviewed(Conflict):
    code = "qa_already_reviewed"
    description = "This item was reviewed already"


@dataclass(frozen=True)
class SampleSummary:
    sample: QaSample
    pending: int
    passed: int
    failed: int


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    if end < start:
        raise ValidationFailed("end: on or after the start")
    if (end - start).days + 1 > MAX_DAYS:
        raise ValidationFailed(f"end: a period of at most {MAX_DAYS} days")
    lo = dt.datetime(start.year, start.month, start.day, tzinfo=dt.UTC)
    return lo, lo + dt.timedelta(days=(end - start).days + 1)


def draw_sample(
    session: Session,
    *,
    start: dt.date,
    end: dt.date,
    size: int,
    seed: int,
    actor: str,
    clock: Clock,
) -> QaSample:
    """Draw up to `size` contacts at random (seeded) from what went out from `start` to `end`."""
    if not 1 <= size <= MAX_SIZE:
        raise ValidationFailed(f"size: from 1 to {MAX_SIZE}")
    if not 0 <= seed <= MAX_SEED:
        raise ValidationFailed(f"seed: from 0 to {MAX_SEED}")
    lo, hi = _bounds(start, end)
    everyone = repo.population(session, lo, hi)
    chosen = sorted(random.Random(seed).sample(everyone, min(size, len(everyone))))
    now = clock.now()
    sample = SampleRepository(session).create(
        QaSample(
            seed=seed,
            start_date=start,
            end_date=end,
            size=size,
            population=len(everyone),
            drawn_by=actor,
            created_at=now,
        )
    )
    ReviewRepository(session).add_many(
        [
            QaReview(
                sample_id=sample.id,
                contact_id=contact_id,
                channel=channel,
                status="pending",
                checks={},
                created_at=now,
            )
            for contact_id, channel in chosen
        ]
    )
    audit_service.record(
        session,
        actor=actor,
        action="qa.sampled",
        subject_type="qa_sample",
        subject_id=sample.id,
        clock=clock,
        details={
            "seed": seed,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "drawn": len(chosen),
            "population": len(everyone),
        },
    )
    return sample


def get_sample(session: Session, sample_id: int) -> tuple[QaSample, list[QaReview]]:
    sample = SampleRepository(session).get(sample_id)
    if sample is None:
        raise SampleNotFound(f"no QA sample {sample_id}")
    return sample, list(ReviewRepository(session).of_sample(sample.id))


def samples(session: Session, *, limit: int = 50) -> list[SampleSummary]:
    """The newest samples with how many of their items are pending, passed, failed."""
    rows = SampleRepository(session).newest(limit=limit)
    counts = ReviewRepository(session).counts([s.id for s in rows])
    return [
        SampleSummary(
            s,
            counts.get(s.id, {}).get("pending", 0),
            counts.get(s.id, {}).get("passed", 0),
            counts.get(s.id, {}).get("failed", 0),
        )
        for s in rows
    ]


def get_review(session: Session, review_id: int) -> QaReview:
    review = ReviewRepository(session).get(review_id)
    if review is None:
        raise ReviewNotFound(f"no QA review {review_id}")
    return review


def review(
    session: Session,
    review_id: int,
    *,
    checks: Mapping[str, str],
    findings: str,
    actor: str,
    clock: Clock,
) -> QaReview:
    """Record a reviewer's checklist and findings; any "no" fails the item. Once only."""
    item = get_review(session, review_id)
    if item.reviewed_at is not None:
        raise AlreadyReviewed(f"QA item {review_id} was reviewed by {item.reviewed_by}")
    unknown = sorted(set(checks) - set(CHECKLIST))
    if unknown:
        raise ValidationFailed(f"checks.{unknown[0]}: not on the checklist")
    answers: dict[str, str] = {}
    for key in CHECKLIST:
        value = checks.get(key)
        if value not in ANSWERS:
            raise ValidationFailed(f"checks.{key}: one of {', '.join(ANSWERS)}")
        answers[key] = value
    text = findings.strip()
    if len(text) > MAX_FINDINGS:
        raise ValidationFailed(f"findings: at most {MAX_FINDINGS} characters")
    failed = "no" in answers.values()
    if failed and not text:
        raise ValidationFailed("findings: say what went wrong when a check fails")
    now = clock.now()
    ReviewRepository(session).record(
        item,
        checks=answers,
        findings=text or None,
        status="failed" if failed else "passed",
        by=actor,
        at=now,
    )
    audit_service.record(
        session,
        actor=actor,
        action="qa.reviewed",
        subject_type="contact",
        subject_id=item.contact_id,
        clock=clock,
        details={
            "review": item.id,
            "status": item.status,
            "failed": sorted(k for k, v in answers.items() if v == "no"),
        },
    )
    return item


def results(session: Session, *, limit: int = 100) -> Sequence[QaReview]:
    """The latest reviewed items, newest first."""
    return ReviewRepository(session).reviewed(limit=limit)
