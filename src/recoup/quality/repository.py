"""All of QA's SQL: its samples and reviews, and the read of what went out in a period."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recoup.kit.repository import Repository
from recoup.models import ContactPlan, ContactStatus, QaReview, QaSample
from recoup.models.contact import QUEUE_ENTRY

# What a person can review: a message that left (or may have), a call an agent placed (`dial`).
# The queue entry (`call`) is no contact with anyone and is never sampled.
LEFT = (ContactStatus.sent, ContactStatus.delivered, ContactStatus.unknown)


class SampleRepository(Repository[QaSample]):
    model = QaSample

    def newest(self, *, limit: int) -> Sequence[QaSample]:
        return self.list(select(QaSample).order_by(QaSample.id.desc()).limit(limit))


class ReviewRepository(Repository[QaReview]):
    model = QaReview

    def add_many(self, rows: Sequence[QaReview]) -> None:
        self.session.add_all(rows)
        self.session.flush()

    def record(
        self,
        item: QaReview,
        *,
        checks: dict[str, str],
        findings: str | None,
        status: str,
        by: str,
        at: dt.datetime,
    ) -> None:
        item.checks, item.findings, item.status = checks, findings, status
        item.reviewed_by, item.reviewed_at = by, at
        self.session.flush()

    def of_sample(self, sample_id: int) -> Sequence[QaReview]:
        stmt = select(QaReview).where(QaReview.sample_id == sample_id).order_by(QaReview.id)
        return self.list(stmt)

    def counts(self, sample_ids: Sequence[int]) -> dict[int, dict[str, int]]:
        """Per sample, how many items stand in each status."""
        stmt = (
            select(QaReview.sample_id, QaReview.status, func.count())
            .where(QaReview.sample_id.in_(sample_ids))
            .group_by(QaReview.sample_id, QaReview.status)
        )
        out: dict[int, dict[str, int]] = {}
        for sample_id, status, n in self.session.execute(stmt):
            out.setdefault(sample_id, {})[status] = n
        return out

    def reviewed(self, *, limit: int) -> Sequence[QaReview]:
        stmt = (
            select(QaReview)
            .where(QaReview.reviewed_at.is_not(None))
            .order_by(QaReview.reviewed_at.desc(), QaReview.id.desc())
            .limit(limit)
        )
        return self.list(stmt)


def population(session: Session, lo: dt.datetime, hi: dt.datetime) -> list[tuple[int, str]]:
    """Messages that left and calls placed between `lo` and `hi`, by id: (id, channel)."""
    c = ContactPlan
    at = func.coalesce(c.sent_at, c.updated_at)
    stmt = (
        select(c.id, c.channel)
        .where(c.status.in_(LEFT), c.channel != QUEUE_ENTRY, at >= lo, at < hi)
        .order_by(c.id)
    )
    return [(int(i), str(ch)) for i, ch in session.execute(stmt)]
