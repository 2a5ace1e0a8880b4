"""The daily strategy run decides a large day in parts (`daily_run.PART_ACCOUNTS`, by ranges of
account id) and writes each part's decisions and contact plans on a second thread while the next
part is decided (`kit.background.writes_behind`), on the session's own connection: the rows are the
ones a day decided whole writes, and a failed write fails the run with its error, the run's
transaction leaving nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import polars as pl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recoup.daily import flows as daily_flows
from recoup.delinquency import service as delinquency_service
from recoup.kit import frames
from recoup.kit.clock import SettableClock
from recoup.models import AgentTask, AuditEvent, ContactPlan, DailyRun, StrategyDecision
from recoup.strategy import repository as strategy_repo
from recoup.strategy import service as strategy_service
from recoup.strategy.service import daily_run
from tests.strategy.test_daily_run import AS_OF, activate, portfolio

DECISION = ("account_id", "stage", "decision", "pause_reason", "treatment", "queue", "offers")
NEXT = AS_OF + dt.timedelta(days=1)
PLAN = ("account_id", "treatment", "channel", "status", "scheduled_at", "reasons")


Rows = dict[str, list[tuple[Any, ...]]]


def _rows(session: Session, day: dt.date) -> Rows:
    d, p = StrategyDecision, ContactPlan
    return {
        "decisions": sorted(
            (a, s, dc, pr, t, q, str(o))
            for a, s, dc, pr, t, q, o in session.execute(
                select(*(getattr(d, c) for c in DECISION)).where(d.as_of_date == day)
            )
        ),
        "plans": sorted(
            (a, t, c, s, at, str(r))
            for a, t, c, s, at, r in session.execute(
                select(*(getattr(p, c) for c in PLAN)).where(p.as_of_date == day)
            )
        ),
        "tasks": sorted(
            tuple(r)
            for r in session.execute(
                select(AgentTask.account_id, AgentTask.queue, AgentTask.priority).where(
                    AgentTask.as_of_date == day
                )
            ).all()
        ),
    }


def _count(session: Session, model: type) -> int:
    return int(session.execute(select(func.count()).select_from(model)).scalar_one())


class TestDayInParts:
    def test_a_day_in_parts_writes_the_rows_of_the_day_decided_whole(
        self, session: Session, clock: SettableClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Two days, the second deciding on the first one's contacts (its accounts wait for
        their cadence). Caught with the contact history left out of the parts (the second day's
        waits became pushes), and with the parts taken in descending order of account id (the
        plans' ids no longer in key order)."""
        portfolio(session, clock)
        activate(session, clock)

        def two_days() -> tuple[list[strategy_service.StrategyRun], list[Rows]]:
            reports = [strategy_service.run(session, AS_OF, clock=clock)]
            rows = [_rows(session, AS_OF)]
            delinquency_service.run_daily(session, NEXT, clock=clock)
            reports.append(strategy_service.run(session, NEXT, clock=clock))
            rows.append(_rows(session, NEXT))
            return reports, rows

        whole = session.begin_nested()
        reports_whole, expected = two_days()
        whole.rollback()
        monkeypatch.setattr(daily_run, "PART_ACCOUNTS", 2)  # five accounts: three parts
        writers: list[str] = []
        real = frames.insert_frame

        def insert(s: Session, table: Any, frame: pl.DataFrame) -> int:
            writers.append(threading.current_thread().name)
            return real(s, table, frame)

        monkeypatch.setattr(frames, "insert_frame", insert)
        reports, rows = two_days()
        assert "writes-behind" in writers  # the parts were written on the writer's thread
        assert rows == expected
        assert expected[0]["plans"]
        assert expected[1]["tasks"]
        assert "wait" in {r[2] for r in expected[1]["decisions"]}
        for report, report_whole in zip(reports, reports_whole, strict=True):
            assert (report.accounts, report.contacts_planned, report.agent_tasks) == (
                report_whole.accounts,
                report_whole.contacts_planned,
                report_whole.agent_tasks,
            )
            assert report.by_decision == report_whole.by_decision
        # The plans' ids follow their keys, as a whole day's write (in key order) gives them.
        keys = session.execute(
            select(ContactPlan.account_id, ContactPlan.treatment)
            .where(ContactPlan.as_of_date == AS_OF)
            .order_by(ContactPlan.id)
        ).all()
        assert [tuple(k) for k in keys] == sorted(tuple(k) for k in keys)

    def test_a_failed_write_fails_the_run_and_leaves_nothing(
        self, session: Session, clock: SettableClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A real database error on the writer's thread: the last part's decisions collide with
        a decision already recorded that the run did not see (the read of the day's decided
        accounts made to miss it). The run raises the database's own error after the writer has
        ended, writes nothing after the failed part (no tasks, no audit entry), and its
        transaction rolled back leaves no row of the day. Caught with the writer's error not
        re-raised at the block's exit (`kit.background.writes_behind`): the run then ended as if
        it had succeeded, without the failed part's rows (the last part: no later `submit` to
        raise it)."""
        ids = portfolio(session, clock)
        activate(session, clock)
        monkeypatch.setattr(daily_run, "PART_ACCOUNTS", 2)
        last = max(ids.values())  # the third part's one account (disputed: a pause, recorded)
        version = strategy_service.active_policy(session)[0]
        session.add(
            StrategyDecision(
                account_id=last,
                as_of_date=AS_OF,
                policy_version_id=version.id,
                decision="none",
                created_at=clock.now(),
            )
        )
        session.flush()
        audit_before = _count(session, AuditEvent)
        monkeypatch.setattr(
            strategy_repo,
            "decided_accounts",
            lambda s, day: pl.DataFrame(schema={"account_id": pl.Int64}),
        )
        tables: list[tuple[str, str]] = []
        real = frames.insert_frame

        def insert(s: Session, table: Any, frame: pl.DataFrame) -> int:
            tables.append((table.name, threading.current_thread().name))
            return real(s, table, frame)

        monkeypatch.setattr(frames, "insert_frame", insert)
        savepoint = session.begin_nested()
        with pytest.raises(Exception, match=r"(?i)unique") as raised:
            strategy_service.run(session, AS_OF, clock=clock)
        assert type(raised.value).__name__ in ("IntegrityError", "UniqueViolation")
        assert not any(t.name == "writes-behind" for t in threading.enumerate())
        # The parts' decisions and plans, the last part's decisions failing: nothing after
        # them, and nothing from the run's own thread.
        written = [name for name, _ in tables]
        assert written[-1] == "strategy_decisions"
        assert written.count("strategy_decisions") == 3
        assert "agent_tasks" not in written
        assert {thread for _, thread in tables} == {"writes-behind"}
        savepoint.rollback()  # what the caller's session scope does with the failed run
        monkeypatch.setattr(frames, "insert_frame", real)
        assert _count(session, StrategyDecision) == 1  # the one recorded before the run
        assert _count(session, ContactPlan) == 0
        assert _count(session, AgentTask) == 0
        assert _count(session, AuditEvent) == audit_before

    def test_a_failed_write_fails_the_days_run_and_its_claim_and_the_next_run_completes(
        self, session: Session, clock: SettableClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The daily flow (`daily.flows.run_day`) with the writer's first contact plans failing:
        the flow raises the writer's error, and its transaction rolled back takes the day's
        claim and every row with it, so the day runs again and completes. Caught with the
        writer's error not re-raised (`kit.background`: the exit's and `submit`'s raises
        removed): the day then ran and stayed claimed without the failed part's plans."""
        ids = portfolio(session, clock)
        activate(session, clock)
        clock.set(dt.datetime.combine(AS_OF, dt.time(1), tzinfo=dt.UTC))
        monkeypatch.setattr(daily_run, "PART_ACCOUNTS", 2)
        real = frames.insert_frame

        def disk_full(s: Session, table: Any, frame: pl.DataFrame) -> int:
            if table.name == "contact_plans" and threading.current_thread().name == "writes-behind":
                raise OSError("could not extend file: No space left on device")
            return real(s, table, frame)

        monkeypatch.setattr(frames, "insert_frame", disk_full)
        savepoint = session.begin_nested()
        with pytest.raises(OSError, match="No space left"):
            daily_flows.run_day(session, AS_OF, clock=clock, zone="Asia/Shanghai", actor="t")
        savepoint.rollback()  # what the caller's session scope does with the failed run
        monkeypatch.setattr(frames, "insert_frame", real)
        assert session.get(DailyRun, AS_OF) is None
        assert _count(session, StrategyDecision) == 0
        assert _count(session, ContactPlan) == 0
        again = daily_flows.run_day(session, AS_OF, clock=clock, zone="Asia/Shanghai", actor="t")
        assert again.ran
        assert again.strategy is not None
        assert again.strategy.accounts == len(ids)
        assert _count(session, ContactPlan) == again.strategy.contacts_planned > 0
