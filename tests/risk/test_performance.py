"""A model's performance over time on the database (`recoup.risk.performance`): the AUC of each
scoring day against the outcomes that arrived within the horizon equals the hand-counted one, only
days whose horizon has passed count, calibration covers every matured score, and the drift of the
latest day comes alerts first."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from recoup.kit.clock import SettableClock
from recoup.risk import performance
from tests.factories import add_bill, create_account, pay, shanghai
from tests.risk.seeding import add_drift, add_model, add_scores

D1 = dt.date(2026, 3, 2)
D2 = dt.date(2026, 3, 10)
TODAY = dt.date(2026, 6, 1)


def portfolio(session: Session, clock: SettableClock) -> list[int]:
    """Five accounts each 100.00 overdue since 20 February; the first and third pay it all on
    15 March (within 30 days of both scoring days), the others never."""
    ids = []
    for n in range(5):
        account = create_account(session, clock, opened=dt.date(2026, 1, 1))
        add_bill(session, clock, account, dt.date(2026, 2, 20), 10_000)
        if n in (0, 2):
            pay(session, clock, account, 10_000, shanghai(dt.date(2026, 3, 15)))
        ids.append(account.id)
    session.flush()
    return ids


class TestAucOverTime:
    def test_each_matured_day_against_the_outcomes_that_arrived(
        self, session: Session, clock: SettableClock
    ) -> None:
        a, b, c, d, e = portfolio(session, clock)
        model = add_model(session, clock, kind="p_pay", horizon_days=30, trained_by="staff:ann")
        # D1: payers scored 0.9 and 0.7 against 0.8, 0.6, 0.5: 5 of 6 pairs in order.
        add_scores(session, model, D1, {a: 0.9, b: 0.8, c: 0.7, d: 0.6, e: 0.5})
        # D2: payers 0.2 and 0.3 against 0.9, 0.1, 0.4: each beats only 0.1, 2 of 6.
        add_scores(session, model, D2, {a: 0.2, b: 0.9, c: 0.3, d: 0.1, e: 0.4})
        # A day whose 30 days have not passed by TODAY: no outcome known yet, not counted.
        add_scores(session, model, TODAY - dt.timedelta(days=5), {a: 0.5, b: 0.5})

        report = performance.model_report(session, model.id, today=TODAY)
        days = report.performance.days
        assert [x.as_of_date for x in days] == [D1, D2]
        assert [x.n for x in days] == [5, 5]
        assert [x.positives for x in days] == [2, 2]
        assert days[0].auc == pytest.approx(5 / 6)
        assert days[1].auc == pytest.approx(2 / 6)
        assert days[0].observed == pytest.approx(0.4)
        assert report.performance.n == 10
        assert sum(b.n for b in report.performance.reliability) == 10

    def test_a_day_counts_once_its_horizon_has_passed(
        self, session: Session, clock: SettableClock
    ) -> None:
        """Catches counting open days (the slow payers would count as non-payers): the removal
        tried is `matured_days` returning every scored day."""
        a, b, *_ = portfolio(session, clock)
        model = add_model(session, clock, kind="p_pay", horizon_days=30, trained_by="staff:ann")
        add_scores(session, model, D1, {a: 0.9, b: 0.1})
        early = performance.model_report(session, model.id, today=D1 + dt.timedelta(days=29))
        assert early.performance.days == []
        assert early.performance.auc is None
        late = performance.model_report(session, model.id, today=D1 + dt.timedelta(days=30))
        assert [x.auc for x in late.performance.days] == [1.0]

    def test_an_unknown_model_is_a_404(self, session: Session) -> None:
        with pytest.raises(performance.RiskModelNotFound):
            performance.model_report(session, 987_654, today=TODAY)


class TestDriftAndOverview:
    def test_latest_day_alerts_first_and_counted_in_the_list(
        self, session: Session, clock: SettableClock
    ) -> None:
        model = add_model(session, clock, kind="p_pay", horizon_days=30, trained_by="staff:ann")
        add_drift(session, model, D1, {"dpd": 0.4, "overdue_log": 0.02})  # an older day
        add_drift(session, model, D2, {"dpd": 0.05, "overdue_log": 0.3, "score": 0.12})
        report = performance.model_report(session, model.id, today=TODAY)
        assert report.drift_day == D2
        assert [(r.feature, r.level) for r in report.drift] == [
            ("overdue_log", "alert"),
            ("score", "watch"),
            ("dpd", "ok"),
        ]
        row = next(s for s in performance.overview(session, today=TODAY) if s.model.id == model.id)
        assert (row.alerts, row.watches) == (1, 1)
