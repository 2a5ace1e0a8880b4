"""The daily flow (`recoup.daily.flows.run_day`): the day's steps in one transaction, once a day."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recoup.agents import service as agents_service
from recoup.cli.daily import next_run
from recoup.daily import flows as daily_flows
from recoup.kit.clock import SettableClock
from recoup.models import AgentTask, AuditEvent, DailyRun, StrategyDecision
from tests.arrangements.test_flows import DAY0, ONE_DAY, late_account, on

ZONE = "Asia/Shanghai"


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


class TestOnceADay:
    def test_the_daily_flow_run_twice_for_a_day_does_nothing_the_second_time(
        self, session: Session, clock: SettableClock
    ) -> None:
        """Catches a flow that does not claim its day (`daily_runs`): the second run would write a
        second delinquency pass and strategy run into the audit ledger."""
        late_account(session, clock)
        late_account(session, clock, days_late=40)
        on(clock, DAY0 + ONE_DAY)
        first = daily_flows.run_day(session, DAY0 + ONE_DAY, clock=clock, zone=ZONE, actor="t")
        assert first.ran
        assert first.strategy is not None
        assert first.strategy.accounts == 2
        audit, decisions = count(session, AuditEvent), count(session, StrategyDecision)
        again = daily_flows.run_day(session, DAY0 + ONE_DAY, clock=clock, zone=ZONE, actor="t2")
        assert not again.ran
        assert again.previous is not None
        assert again.previous.actor == "t"
        assert (count(session, AuditEvent), count(session, StrategyDecision)) == (audit, decisions)
        run = session.get(DailyRun, DAY0 + ONE_DAY)
        assert run is not None
        assert run.finished_at is not None
        assert run.summary["decided"] == 2
        # The next day runs.
        on(clock, DAY0 + 2 * ONE_DAY)
        assert daily_flows.run_day(
            session, DAY0 + 2 * ONE_DAY, clock=clock, zone=ZONE, actor="t"
        ).ran

    def test_a_policy_queues_task_left_open_expires_with_the_next_day(
        self, session: Session, clock: SettableClock
    ) -> None:
        account = late_account(session, clock)
        on(clock, DAY0)
        agents_service.open_tasks(
            session,
            [
                {
                    "account_id": account.id,
                    "as_of_date": DAY0,
                    "queue": "early",
                    "priority": 1.0,
                    "created_at": clock.now(),
                },
                {
                    "account_id": account.id,
                    "as_of_date": DAY0,
                    "queue": "replies",
                    "priority": 1.0,
                    "source": "reply",
                    "subject_id": 1,
                    "created_at": clock.now(),
                },
            ],
        )
        on(clock, DAY0 + ONE_DAY)
        ran = daily_flows.run_day(session, DAY0 + ONE_DAY, clock=clock, zone=ZONE, actor="t")
        assert ran.tasks_expired == 1
        statuses = dict(
            session.execute(
                select(AgentTask.queue, AgentTask.status).where(AgentTask.as_of_date == DAY0)
            ).all()
        )
        assert statuses == {"early": "expired", "replies": "open"}  # a reply waits for a person


class TestCalendarAlerts:
    def test_the_daily_run_warns_before_a_calendar_in_use_runs_out(
        self, session: Session, clock: SettableClock
    ) -> None:
        """Catches a daily run that no longer checks its calendars: Indonesia's hours rule needs
        public holidays, and the installed table only estimates Eid al-Fitr 2027 (from 9 March,
        with the day either side), 59 days after this run."""
        day = dt.date(2027, 1, 9)
        on(clock, day)
        ran = daily_flows.run_day(session, day, clock=clock, zone=ZONE, actor="t")
        assert [(a.country, a.first_unknown, a.days_left) for a in ran.calendar_alerts] == [
            ("ID", dt.date(2027, 3, 9), 59)
        ]
        run = session.scalars(select(DailyRun).where(DailyRun.business_date == day)).one()
        assert run.summary is not None
        assert "ID are not known from 2027-03-09" in run.summary["calendar_alerts"][0]

    def test_no_alert_while_every_calendar_in_use_reaches_past_sixty_days(
        self, session: Session, clock: SettableClock
    ) -> None:
        on(clock, DAY0)
        assert (
            daily_flows.run_day(session, DAY0, clock=clock, zone=ZONE, actor="t").calendar_alerts
            == []
        )


class TestScheduler:
    @pytest.mark.pure
    @pytest.mark.parametrize(
        ("now", "due"),
        [
            ("2026-06-20T21:59:00+00:00", "2026-06-21T06:00:00+08:00"),  # 05:59 local: today
            ("2026-06-20T22:00:00+00:00", "2026-06-22T06:00:00+08:00"),  # 06:00 local: tomorrow
            ("2026-06-20T01:00:00+00:00", "2026-06-21T06:00:00+08:00"),
        ],
    )
    def test_the_next_run_is_the_configured_local_time(self, now: str, due: str) -> None:
        from zoneinfo import ZoneInfo

        got = next_run(dt.datetime.fromisoformat(now), dt.time(6), ZoneInfo(ZONE))
        assert got == dt.datetime.fromisoformat(due)
