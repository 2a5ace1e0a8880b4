"""The models desk without a browser: the list, a model's page (AUC over time, calibration, drift
with the alert in words) and the learning page render in both languages with seeded data; a model
with no matured day says so; activation refuses the person who trained the model, works for
another manager and leaves an audit entry; an agent is refused every page."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from recoup.models import AuditEvent, RiskModel
from tests.console.conftest import ConsoleClient
from tests.factories import shanghai
from tests.risk.seeding import add_arms, add_drift, add_model, add_scores
from tests.risk.test_performance import D1, D2, TODAY, portfolio

PAGES = ("/console/models", "/console/learning")


@pytest.fixture
def seeded(session: Session, clock: SettableClock) -> dict[str, int]:
    """A p_pay model trained by `trainer` with two matured scoring days and a drift alert, and a
    newer p_roll model scored only yesterday (no day matured)."""
    a, b, c, d, e = portfolio(session, clock)
    clock.set(shanghai(TODAY, 10))
    model = add_model(session, clock, kind="p_pay", horizon_days=30, trained_by="staff:trainer")
    add_scores(session, model, D1, {a: 0.9, b: 0.8, c: 0.7, d: 0.6, e: 0.5})
    add_scores(session, model, D2, {a: 0.2, b: 0.9, c: 0.3, d: 0.1, e: 0.4})
    add_drift(session, model, D2, {"overdue_log": 0.31, "dpd": 0.02})
    fresh = add_model(session, clock, kind="p_roll", horizon_days=30, trained_by="staff:ann")
    add_scores(session, fresh, TODAY - dt.timedelta(days=1), {a: 0.3, b: 0.6})
    add_arms(
        session,
        "cn-wallet-learning",
        "early",
        {("young", "sms"): [100.0, 300.0], ("young", "call"): [900.0, 100.0, 500.0]},
    )
    session.commit()
    return {"model": model.id, "fresh": fresh.id}


class TestPages:
    @pytest.mark.parametrize("lang", ["en", "zh-CN"])
    def test_the_pages_render_in_both_languages(
        self, console: ConsoleClient, seeded: dict[str, int], lang: str
    ) -> None:
        console.sign_in(Role.strategist)
        listing = console.get(f"/console/models?lang={lang}")
        assert listing.status_code == 200
        assert f'href="/console/models/{seeded["model"]}"' in listing.text
        assert ("Propensity to pay" if lang == "en" else "还款倾向") in listing.text
        page = console.get(f"/console/models/{seeded['model']}?lang={lang}")
        assert page.status_code == 200
        # The per-day AUC in the table (the chart's data sits in its JSON block beside it).
        assert "0.833" in page.text
        assert "0.333" in page.text
        assert 'id="chart-auc"' in page.text
        assert 'id="models-data"' in page.text
        alert = "alert: the population has shifted" if lang == "en" else "告警：人群已发生偏移"
        assert alert in page.text
        learning = console.get(f"/console/learning?lang={lang}")
        assert learning.status_code == 200
        assert 'id="arms"' in learning.text
        assert "call" in learning.text
        assert "sms" in learning.text

    def test_a_model_without_matured_days_says_so(
        self, console: ConsoleClient, seeded: dict[str, int]
    ) -> None:
        console.sign_in(Role.strategist)
        page = console.get(f"/console/models/{seeded['fresh']}?lang=en")
        assert page.status_code == 200
        assert 'id="no-matured"' in page.text
        assert "No scoring day has reached its 30-day horizon yet" in page.text

    def test_an_agent_is_refused_and_compliance_reads(
        self, console: ConsoleClient, seeded: dict[str, int]
    ) -> None:
        console.sign_in(Role.agent)
        for path in (*PAGES, f"/console/models/{seeded['model']}"):
            assert console.get(path).status_code == 403, path
        console.sign_in(Role.compliance_officer)
        for path in (*PAGES, f"/console/models/{seeded['model']}"):
            assert console.get(path).status_code == 200, path
        # Compliance reads but does not activate.
        answer = console.post_form(f"/console/models/{seeded['model']}/activate")
        assert answer.status_code == 403

    def test_an_unknown_model_is_a_404_page(self, console: ConsoleClient) -> None:
        console.sign_in(Role.strategist)
        answer = console.get("/console/models/987654")
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("text/html")


class TestActivation:
    def test_the_trainer_is_refused_another_manager_activates_and_it_is_audited(
        self, console: ConsoleClient, seeded: dict[str, int], session: Session
    ) -> None:
        """Four eyes in the service: catches `risk.service.activate` without its check on
        `trained_by` (the trainer's POST would answer 303 and the model become active)."""
        model_id = seeded["model"]
        console.sign_in(Role.strategist, "trainer")
        page = console.get(f"/console/models/{model_id}?lang=en")
        assert 'id="own"' in page.text
        assert 'id="activate"' not in page.text
        refused = console.post_form(f"/console/models/{model_id}/activate")
        assert refused.status_code == 403
        assert "You trained this model" in refused.text
        session.expire_all()
        assert session.get(RiskModel, model_id).status == "trained"  # type: ignore[union-attr]

        other = console.sign_in(Role.strategist)
        done = console.post_form(f"/console/models/{model_id}/activate", follow_redirects=False)
        assert done.status_code == 303
        session.expire_all()
        model = session.get(RiskModel, model_id)
        assert model is not None
        assert (model.status, model.activated_by) == ("active", f"staff:{other.username}")
        events = session.scalars(
            select(AuditEvent).where(
                AuditEvent.subject_type == "risk_model", AuditEvent.subject_id == str(model_id)
            )
        ).all()
        assert [e.actor for e in events if e.action.endswith("activated")] == [
            f"staff:{other.username}"
        ]
        again = console.post_form(f"/console/models/{model_id}/activate")
        assert again.status_code == 409  # active already


def test_the_learning_page_shows_the_holdout_uplift_in_words(
    console: ConsoleClient, session: Session, clock: SettableClock
) -> None:
    """The learner's decisions against the holdout's (tests/strategy/test_learned.py's crafted
    set: +700.00 per decision), with the reading in words."""
    from tests.strategy.test_learned import decide

    decide(
        session,
        clock,
        [
            ("learn", [(2, 1_200)]),
            ("learn", [(7, 800)]),
            ("explore", [(1, 1_000)]),
            ("learn", [(3, 1_400)]),
            ("holdout", [(4, 500)]),
            ("holdout", [(6, 700)]),
            ("holdout", []),
        ],
    )
    session.commit()
    console.sign_in(Role.strategist)
    page = console.get("/console/learning?lang=en")
    assert page.status_code == 200
    assert 'id="uplift"' in page.text
    assert ">+700.00<" in page.text
    assert 'id="uplift-reading"' in page.text
    zh = console.get("/console/learning?lang=zh-CN")
    assert "保留组对比的提升" in zh.text
