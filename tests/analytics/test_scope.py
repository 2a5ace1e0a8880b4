"""The figures of one product or one segment: the same set-based reads kept to those accounts,
checked against the small portfolio of `test_kpis` worked out by hand; and the targets per KPI."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from recoup.analytics import schemas
from recoup.analytics import service as analytics_service
from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from recoup.kit.errors import ValidationFailed
from recoup.models import StrategyDecision
from tests.analytics.test_api import staff_client
from tests.analytics.test_kpis import PERIOD, Book, build


def decide(session: Session, account_id: int, day: dt.date, segment: str) -> None:
    """A decision of the strategy's (its own table; the test writes it to fix the segments)."""
    session.add(
        StrategyDecision(
            account_id=account_id,
            as_of_date=day,
            policy_version_id=1,
            segment=segment,
            decision="contact",
            offers=[],
            compliance=[],
            created_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
        )
    )


@pytest.fixture
def book(session: Session, clock: SettableClock) -> Book:
    made = build(session, clock)
    # cured_m2 is a credit line; the others stay BNPL.
    made.cured_m2.product_code = "credit_line"
    # The policy's one segment is "everyone" (the events' re-decisions recorded it); later in the
    # month rolls_m2 was "standard", then "large" by the end; cured_m1 "large"; the rest standard.
    decide(session, made.rolls_m2.id, dt.date(2026, 6, 26), "standard")
    decide(session, made.rolls_m2.id, dt.date(2026, 6, 28), "large")
    decide(session, made.cured_m1.id, dt.date(2026, 6, 27), "large")
    for a in (made.falls_late, made.on_time, made.cured_m2):
        decide(session, a.id, dt.date(2026, 6, 27), "standard")
    # A decision after the period's end does not move an account out of its segment.
    decide(session, made.cured_m1.id, dt.date(2026, 7, 3), "standard")
    session.flush()
    return made


class TestScope:
    def test_a_product_keeps_the_figures_to_its_accounts(
        self, session: Session, book: Book
    ) -> None:
        scope = analytics_service.scope(session, "credit_line", None)
        kpis = analytics_service.kpis(session, PERIOD, scope=scope)
        [cny] = kpis.recovery
        # Only cured_m2: ¥800 overdue at the start, all of it paid on 3 June.
        assert (cny.base_minor, cny.collected_minor, cny.accounts) == (80_000, 80_000, 1)
        assert {c.bucket: (c.accounts, c.cured) for c in kpis.cure} == {"M2": (1, 1)}
        assert (kpis.promises.kept, kpis.promises.broken) == (0, 0)
        assert (kpis.complaints, kpis.opt_outs) == (0, 0)
        assert kpis.accounts == 1
        assert kpis.scope == schemas.Scope(product="credit_line")
        rolls = analytics_service.roll_rates(session, PERIOD, scope=scope)
        assert {(c.from_bucket, c.to_bucket): c.accounts for c in rolls.cells} == {("M2", "M0"): 1}

    def test_a_segment_is_the_last_decision_by_the_periods_end(
        self, session: Session, book: Book
    ) -> None:
        scope = analytics_service.scope(session, None, "large")
        kpis = analytics_service.kpis(session, PERIOD, scope=scope)
        [cny] = kpis.recovery
        # cured_m1 (¥1,000, all paid) and rolls_m2 (¥2,000, nothing paid; its promise broken).
        assert (cny.base_minor, cny.collected_minor, cny.accounts) == (300_000, 100_000, 2)
        assert {c.bucket: (c.accounts, c.cured) for c in kpis.cure} == {"M1": (2, 1), "M2": (1, 0)}
        assert (kpis.promises.kept, kpis.promises.broken) == (0, 1)
        # The complaint was cured_m1's customer's (about no account); the opt-out falls_late's.
        assert (kpis.complaints, kpis.opt_outs) == (1, 0)

    def test_the_parts_add_up_to_the_whole(self, session: Session, book: Book) -> None:
        whole = analytics_service.kpis(session, PERIOD).recovery[0]
        parts = [
            analytics_service.kpis(
                session, PERIOD, scope=analytics_service.scope(session, None, s)
            ).recovery[0]
            for s in ("large", "standard")
        ]
        assert sum(p.base_minor for p in parts) == whole.base_minor
        assert sum(p.collected_minor for p in parts) == whole.collected_minor

    def test_an_unknown_product_or_segment_is_refused_naming_it(
        self, session: Session, book: Book
    ) -> None:
        with pytest.raises(analytics_service.BadScope, match=r"^product:"):
            analytics_service.scope(session, "no-such", None)
        with pytest.raises(analytics_service.BadScope, match=r"^segment:"):
            analytics_service.scope(session, None, "nobody")
        assert analytics_service.scope(session, " ", "") == schemas.Scope()

    def test_the_choices_are_the_products_and_the_segments_decided(
        self, session: Session, book: Book
    ) -> None:
        products, segments = analytics_service.choices(session, PERIOD)
        assert {"bnpl", "credit_line"} <= set(products)
        assert segments == ["everyone", "large", "standard"]


class TestTargets:
    def test_a_missed_target_is_marked_and_a_met_one_is_not(
        self, session: Session, book: Book
    ) -> None:
        kpis = analytics_service.kpis(session, PERIOD)
        targets = schemas.Targets.model_validate(
            {
                "targets": {
                    "recovery_rate": {"at_least": 0.5},  # 200,000 / 430,000: missed
                    "promises_kept": {"at_least": 0.5},  # 1 of 2: met, just
                    "complaints_per_1000": {"at_most": 1.0},  # no attempts: no value
                    "cure.M1": {"at_most": 0.2},  # 1 of 3: missed
                }
            }
        )
        by_kpi = {r.kpi: r for r in analytics_service.readings(kpis, targets)}
        assert by_kpi["recovery_rate"].value == pytest.approx(200_000 / 430_000)
        assert by_kpi["recovery_rate"].met is False
        assert by_kpi["promises_kept"].met is True
        assert by_kpi["complaints_per_1000"].met is None
        assert by_kpi["cure.M1"].met is False
        assert by_kpi["right_party_rate"].target is None

    def test_the_shipped_targets_load_and_a_file_replaces_them(self, tmp_path: Path) -> None:
        shipped = analytics_service.load_targets()
        assert shipped.targets["recovery_rate"].at_least == pytest.approx(0.25)
        mine = tmp_path / "targets.yaml"
        mine.write_text("targets:\n  recovery_rate: {at_least: 0.4}\n", encoding="utf-8")
        assert analytics_service.load_targets(mine).targets == {
            "recovery_rate": schemas.Target(at_least=0.4)
        }

    @pytest.mark.parametrize(
        "text",
        [
            "targets:\n  recovry_rate: {at_least: 0.4}\n",
            "targets:\n  recovery_rate: {at_least: 0.4, at_most: 0.9}\n",
            "targets:\n  recovery_rate: {at_least: .nan}\n",
            "targets: [",
        ],
    )
    def test_a_bad_targets_file_is_refused(self, tmp_path: Path, text: str) -> None:
        bad = tmp_path / "targets.yaml"
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(ValidationFailed):
            analytics_service.load_targets(bad)


class TestThroughTheApi:
    def test_the_endpoints_take_product_and_segment(
        self,
        app: FastAPI,
        sessions: sessionmaker[Session],
        session: Session,
        clock: SettableClock,
        book: Book,
    ) -> None:
        session.commit()
        client = staff_client(app, sessions, clock, Role.strategist)
        query = {"from": "2026-06-01", "to": "2026-06-30"}
        kpis = client.get("/v1/analytics/kpis", params={**query, "product": "credit_line"})
        assert kpis.status_code == 200, kpis.text
        [cny] = kpis.json()["recovery"]
        assert (cny["base_minor"], cny["collected_minor"]) == (80_000, 80_000)
        assert kpis.json()["scope"] == {"product": "credit_line", "segment": None}
        rolls = client.get("/v1/analytics/roll-rates", params={**query, "segment": "large"})
        assert rolls.status_code == 200
        assert sum(c["accounts"] for c in rolls.json()["cells"]) == 2
        unknown = client.get("/v1/analytics/experiments", params={**query, "segment": "nobody"})
        assert unknown.status_code == 422
        assert unknown.json()["message"].startswith("segment:")
        too_long = client.get("/v1/analytics/kpis", params={"product": "p" * 33})
        assert too_long.status_code == 422
