"""SQL for cases: the only writer of `cases` and `survey_responses`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recoup.kit.repository import Repository
from recoup.models import AgentTask, AgentTaskEvent, Case, CaseKind, CaseStatus, SurveyResponse


class CaseRepository(Repository[Case]):
    model = Case

    def add(self, **values: Any) -> Case:
        """A new case, flushed for its id."""
        return self.create(Case(**values))

    def held_pause(self, case: Case, pause_id: int) -> None:
        """Name the pause the case holds (its first, when it pauses several accounts)."""
        case.pause_id = case.pause_id or pause_id
        self.session.flush()

    def resolve(self, case: Case, *, resolution: str, by: str, at: dt.datetime) -> None:
        case.status, case.resolution = CaseStatus.resolved, resolution
        case.resolved_by, case.resolved_at = by, at
        self.session.flush()

    def for_customer(self, customer_id: int) -> Sequence[Case]:
        return self.list(
            select(Case).where(Case.customer_id == customer_id).order_by(Case.id.desc())
        )

    def open_review(self, customer_id: int, account_id: int | None) -> Case | None:
        """The customer's open review of this account (None: of all their accounts)."""
        c = Case
        account = c.account_id.is_(None) if account_id is None else c.account_id == account_id
        stmt = (
            select(c)
            .where(
                c.customer_id == customer_id,
                c.kind == CaseKind.review,
                c.status == CaseStatus.open,
                account,
            )
            .order_by(c.id)
            .limit(1)
        )
        return self.session.execute(stmt).scalars().first()

    def inbox(self, *, kind: str | None, status: str | None, limit: int) -> Sequence[Case]:
        """Cases for the supervisors' inbox, oldest first (the longest wait at the top)."""
        stmt = select(Case)
        if kind is not None:
            stmt = stmt.where(Case.kind == kind)
        if status is not None:
            stmt = stmt.where(Case.status == status)
        return self.list(stmt.order_by(Case.created_at, Case.id).limit(limit))

    def open_tasks(self, case_id: int) -> list[int]:
        """The open agent tasks a case put in its queue (agents' rows, read here)."""
        t = AgentTask
        stmt = select(t.id).where(t.source == "case", t.subject_id == case_id, t.status == "open")
        return list(self.session.scalars(stmt))


class SurveyRepository(Repository[SurveyResponse]):
    model = SurveyResponse

    def add(self, **values: Any) -> SurveyResponse:
        return self.create(SurveyResponse(**values))

    def answered(self, customer_id: int, subject: str) -> SurveyResponse | None:
        s = SurveyResponse
        return self.get_one_or_none(
            select(s).where(s.customer_id == customer_id, s.subject == subject)
        )

    def scores(
        self, *, since: dt.datetime | None, until: dt.datetime | None
    ) -> list[tuple[int, int, bool]]:
        """Every answer's scores in [since, until): never the words, never who."""
        s = SurveyResponse
        stmt = select(s.treated, s.clear, s.self_service_again)
        if since is not None:
            stmt = stmt.where(s.created_at >= since)
        if until is not None:
            stmt = stmt.where(s.created_at < until)
        return [(int(t), int(c), bool(a)) for t, c, a in self.session.execute(stmt)]


def first_taken(session: Session, case_ids: Sequence[int]) -> dict[int, dt.datetime]:
    """When a person first had each case's task (agents' rows, read here): a supervisor gave it
    to an agent (`reassigned`) or an agent took it (`taken`). The moment a case is being looked
    at."""
    if not case_ids:
        return {}
    t, e = AgentTask, AgentTaskEvent
    stmt = (
        select(t.subject_id, func.min(e.at))
        .join(e, e.task_id == t.id)
        .where(t.source == "case", t.subject_id.in_(case_ids), e.kind.in_(("reassigned", "taken")))
        .group_by(t.subject_id)
    )
    return {int(case): at for case, at in session.execute(stmt) if case is not None}
