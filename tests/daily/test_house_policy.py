"""The deployment's house policy (`RECOUP_COMPLIANCE_HOUSE_FILE`) at plan time: the daily run plans
under it, and a house file that cannot be used stops the run before it claims its day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recoup.compliance import HouseFileError
from recoup.daily import flows as daily_flows
from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import SettableClock
from recoup.models import ContactPlan, DailyRun, StrategyDecision
from recoup.strategy import service as strategy_service
from tests.arrangements.test_flows import DAY0, late_account, on
from tests.compliance.helpers import NO_SUNDAYS, configure_house

ZONE = "Asia/Shanghai"
SUNDAY = dt.date(2026, 6, 28)  # a plain Sunday in China (no holiday, no adjusted working day)
assert SUNDAY.weekday() == 6
assert SUNDAY > DAY0


def plans(session: Session) -> list[ContactPlan]:
    session.expire_all()
    return list(session.scalars(select(ContactPlan).order_by(ContactPlan.id)))


def local_day(at: dt.datetime | None) -> dt.date | None:
    return at.astimezone(ZoneInfo(ZONE)).date() if at is not None else None


class TestPlanTime:
    def test_the_packs_alone_plan_the_reminder_on_a_sunday(
        self, session: Session, clock: SettableClock
    ) -> None:
        """The control: without a house policy the day's SMS goes on the Sunday, so the next test
        shows the house rule's doing and not the packs'."""
        late_account(session, clock)
        on(clock, SUNDAY)
        assert daily_flows.run_day(session, SUNDAY, clock=clock, zone=ZONE, actor="t").ran
        [plan] = plans(session)
        assert plan.status == "planned"
        assert local_day(plan.scheduled_at) == SUNDAY

    def test_the_daily_run_plans_nothing_the_house_rule_forbids(
        self,
        session: Session,
        clock: SettableClock,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Catches the daily run building its guard from the shipped packs alone (`load_guard()`
        for `deployment_guard(...)` in `daily.flows.run_day`, which hands its guard to the
        strategy): the reminder would be planned on the Sunday, as the test above shows."""
        configure_house(monkeypatch, tmp_path / "house.yaml", NO_SUNDAYS)
        late_account(session, clock)
        on(clock, SUNDAY)
        assert daily_flows.run_day(session, SUNDAY, clock=clock, zone=ZONE, actor="t").ran
        [plan] = plans(session)
        assert plan.status == "deferred"
        assert any(str(r).startswith("acme.no_sundays:") for r in plan.reasons), plan.reasons
        assert local_day(plan.scheduled_at) == SUNDAY + dt.timedelta(days=1)
        # The decision record keeps what the guard said, the house rule's reason with it.
        decision = session.scalars(select(StrategyDecision)).one()
        assert "acme.no_sundays" in str(decision.compliance)

    def test_a_strategy_run_on_its_own_reads_the_house_policy_too(
        self,
        session: Session,
        clock: SettableClock,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """`recoup strategy run` and the events' re-decisions plan without the daily flow: catches
        `planning.house_guard` (their default) going back to the packs alone."""
        configure_house(monkeypatch, tmp_path / "house.yaml", NO_SUNDAYS)
        late_account(session, clock)
        on(clock, SUNDAY)
        delinquency_service.run_daily(session, SUNDAY, clock=clock)
        strategy_service.run(session, SUNDAY, clock=clock)
        [plan] = plans(session)
        assert (plan.status, local_day(plan.scheduled_at)) == (
            "deferred",
            SUNDAY + dt.timedelta(days=1),
        )


class TestBadHouseFile:
    @pytest.mark.parametrize(
        ("text", "problem"),
        [
            ("rules: [\n  - id: x\n", "not YAML at line"),
            ("disable: [cn.hours.legal]\n", "'cn.hours.legal' is law"),
            ("rules:\n  - {id: x, kind: hourz, title: t}\n", "kind 'hourz' is not one of"),
        ],
    )
    def test_stops_the_daily_run_at_start_naming_the_file(
        self,
        session: Session,
        clock: SettableClock,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        text: str,
        problem: str,
    ) -> None:
        """Catches a fall back to the packs alone when the house file is bad (the run would plan
        under rules the deployment did not choose), and a run that fails late (after claiming
        its day, or deciding)."""
        path = configure_house(monkeypatch, tmp_path / "acme-house.yaml", text)
        late_account(session, clock)
        on(clock, SUNDAY)
        with pytest.raises(HouseFileError) as raised:
            daily_flows.run_day(session, SUNDAY, clock=clock, zone=ZONE, actor="t")
        assert str(path) in raised.value.message
        assert problem in raised.value.message
        assert session.get(DailyRun, SUNDAY) is None
        assert session.scalar(select(func.count()).select_from(StrategyDecision)) == 0

    def test_a_missing_house_file_stops_the_run_too(
        self,
        session: Session,
        clock: SettableClock,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        missing = tmp_path / "no-such-house.yaml"
        monkeypatch.setenv("RECOUP_COMPLIANCE_HOUSE_FILE", str(missing))
        on(clock, SUNDAY)
        with pytest.raises(HouseFileError, match=r"no-such-house\.yaml: cannot read"):
            daily_flows.run_day(session, SUNDAY, clock=clock, zone=ZONE, actor="t")
