"""Fairness of treatment on a small crafted portfolio in the database: young women in one region
contacted twice as hard as older men at the same risk raise an alert (by age band, sex and region
alike), equal treatment raises none, customers whose attributes are not on file are the group
"unknown"; the API answers with the shape and refuses bad dates; the report carries the section
(the console page: tests/console/test_fairness_page.py)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from recoup.analytics import fairness as fairness_service
from recoup.analytics import report as html_report
from recoup.analytics import schemas
from recoup.analytics import service as analytics_service
from recoup.contact import repository as contact_repository
from recoup.delinquency import service as delinquency_service
from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from recoup.ledger import schemas as ledger_schemas
from recoup.ledger import service as ledger_service
from recoup.models import Account, AccountScore, ContactPlan
from tests.analytics.test_api import staff_client
from tests.factories import add_bill, create_account, shanghai

FROM, TO = dt.date(2026, 6, 1), dt.date(2026, 6, 30)
PERIOD = schemas.Period(from_date=FROM, to_date=TO)
PER_GROUP = 16  # accounts a group, half in each risk band
MIN_ACCOUNTS = 10  # the test's bound (50 by default): a small portfolio
_seq = itertools.count()

# (birth year, sex, region): young women in GD, older men in ZJ, and people with nothing on file.
YOUNG, OLD, NOTHING = (2002, "F", "GD"), (1976, "M", "ZJ"), (None, None, None)


def debtor(
    session: Session,
    clock: SettableClock,
    who: tuple[int | None, str | None, str | None],
    due: dt.date,
) -> Account:
    birth_year, sex, region = who
    n = next(_seq)
    customer = ledger_service.create_customer(
        session,
        ledger_schemas.CustomerCreate(
            external_ref=f"fair-{n}",
            name="李娜",
            jurisdiction="CN",
            birth_year=birth_year,
            sex=sex,
            addresses=[ledger_schemas.AddressIn(country="CN", region=region)],
        ),
        clock=clock,
    )
    account = create_account(session, clock, customer=customer)
    add_bill(session, clock, account, due, 50_000)
    return account


def contacts(session: Session, account: Account, n: int) -> None:
    """`n` delivered SMS on the first `n` days of June, as the dispatcher records them."""
    rows = []
    for i in range(n):
        day = FROM + dt.timedelta(days=i)
        at = shanghai(day, 10)
        rows.append(
            ContactPlan(
                account_id=account.id,
                customer_id=account.customer_id,
                as_of_date=day,
                stage="early",
                treatment=f"sms-{i}",
                channel="sms",
                template="reminder",
                tone="firm" if i % 4 == 0 else "gentle",
                status="delivered",
                scheduled_at=at,
                reasons=[],
                purpose="collection",
                sent_at=at,
                created_at=at,
            )
        )
    contact_repository.add_plans(session, rows)


def portfolio(
    session: Session, clock: SettableClock, *, young_factor: int, per_group: int = PER_GROUP
) -> None:
    """Two risk bands (a bill due 20 May: M1 all June; due 10 April: M2 then M3), each group half
    in each; every account contacted 3 to 5 times in June, the young `young_factor` times as
    often."""
    clock.set(shanghai(dt.date(2026, 4, 1), 9))
    for who, factor in ((YOUNG, young_factor), (OLD, 1), (NOTHING, 1)):
        size = per_group if who != NOTHING else 4
        for i in range(size):
            due = dt.date(2026, 5, 20) if i % 2 else dt.date(2026, 4, 10)
            account = debtor(session, clock, who, due)
            contacts(session, account, factor * (3 + i % 3))
    clock.set(shanghai(TO, 20))
    delinquency_service.run_daily(session, TO, clock=clock)


def measure(f: schemas.Fairness, attribute: str, group: str, name: str) -> schemas.FairnessMeasure:
    g = next(g for g in f.groups if (g.attribute, g.group) == (attribute, group))
    return next(m for m in g.measures if m.measure == name)


class TestFairness:
    def test_a_group_contacted_twice_as_hard_at_the_same_risk_raises_an_alert(
        self, session: Session, clock: SettableClock
    ) -> None:
        portfolio(session, clock, young_factor=2)
        f = fairness_service.fairness(session, PERIOD, min_accounts=MIN_ACCOUNTS)
        assert f.risk_basis == "bucket"
        assert [b.band for b in f.bands] == ["M1", "M2"]
        assert f.accounts == 2 * PER_GROUP + 4
        flagged = {(a.attribute, a.group, a.measure) for a in f.alerts}
        assert flagged == {
            ("age_band", "18-24", "attempts_per_day"),
            ("sex", "F", "attempts_per_day"),
            ("region", "GD", "attempts_per_day"),
        }
        young = measure(f, "age_band", "18-24", "attempts_per_day")
        assert young.ratio == pytest.approx(2.0, rel=0.1)
        assert young.ci_low is not None
        assert young.ci_low > 0
        assert young.accounts == PER_GROUP
        alert = next(a for a in f.alerts if a.attribute == "age_band")
        assert alert.words["en"].startswith("Customers aged 18-24 had 2.0 times the contact")
        assert "在风险相同的情况下，18-24 岁的客户" in alert.words["zh-CN"]
        # The firm share is the same for everyone (every fourth message): no alert on tone.
        assert not measure(f, "age_band", "18-24", "firm_share").alert

    def test_equal_treatment_raises_none(self, session: Session, clock: SettableClock) -> None:
        portfolio(session, clock, young_factor=1)
        f = fairness_service.fairness(session, PERIOD, min_accounts=MIN_ACCOUNTS)
        assert f.alerts == []
        assert measure(f, "age_band", "18-24", "attempts_per_day").ratio == pytest.approx(
            1.0, rel=0.1
        )

    def test_unknown_attributes_are_their_own_group(
        self, session: Session, clock: SettableClock
    ) -> None:
        portfolio(session, clock, young_factor=2)
        f = fairness_service.fairness(session, PERIOD, min_accounts=MIN_ACCOUNTS)
        groups = {(g.attribute, g.group): g.accounts for g in f.groups}
        for attribute in ("age_band", "sex", "region"):
            assert groups[(attribute, "unknown")] == 4
        assert groups[("age_band", "45-54")] == PER_GROUP  # born 1976: 50 in 2026
        assert sum(n for (a, _), n in groups.items() if a == "sex") == 2 * PER_GROUP + 4

    def test_the_report_carries_the_alerts_in_both_languages(
        self, session: Session, clock: SettableClock
    ) -> None:
        portfolio(session, clock, young_factor=2)
        f = fairness_service.fairness(session, PERIOD, min_accounts=MIN_ACCOUNTS)
        data = analytics_service.report_data(session, PERIOD)
        page = html_report.render(data, generated_at=clock.now(), fairness=f)
        assert "Fairness of treatment, at the same risk" in page
        assert "公平对待" in page
        assert f.alerts[0].words["en"] in page
        assert f.alerts[0].words["zh-CN"] in page

    def test_risk_bands_come_from_p_pay_scores_when_accounts_were_scored(
        self, session: Session, clock: SettableClock
    ) -> None:
        portfolio(session, clock, young_factor=2)
        accounts = session.execute(select(Account).order_by(Account.id)).scalars().all()
        for i, account in enumerate(accounts):
            for day, score in ((FROM, (i % 5) / 5 + 0.1), (TO, 0.9)):  # the first one counts
                session.add(
                    AccountScore(
                        account_id=account.id,
                        as_of_date=day,
                        model_id=1,
                        kind="p_pay",
                        score=score,
                        reasons=[],
                    )
                )
        session.flush()
        f = fairness_service.fairness(session, PERIOD, min_accounts=MIN_ACCOUNTS)
        assert f.risk_basis == "p_pay"
        assert [b.band for b in f.bands] == [f"p_pay {k}/5" for k in range(1, 6)]
        assert sum(b.accounts for b in f.bands) == f.accounts
        assert ("age_band", "18-24", "attempts_per_day") in {
            (a.attribute, a.group, a.measure) for a in f.alerts
        }

    def test_a_period_with_nobody_in_collection_answers_empty(self, session: Session) -> None:
        f = fairness_service.fairness(session, PERIOD)
        assert (f.accounts, f.bands, f.groups, f.alerts) == (0, [], [], [])


class TestSurfaces:
    def test_the_api_answers_with_the_shape_and_refuses_bad_dates(
        self,
        app: FastAPI,
        sessions: sessionmaker[Session],
        session: Session,
        clock: SettableClock,
    ) -> None:
        portfolio(session, clock, young_factor=2)
        session.commit()
        client = staff_client(app, sessions, clock, Role.compliance_officer)
        answer = client.get("/v1/analytics/fairness", params={"from": "2026-06-01", "to": TO})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["risk_basis"] == "bucket"
        assert body["accounts"] == 2 * PER_GROUP + 4
        assert {"attribute", "group", "accounts", "account_days", "measures"} <= set(
            body["groups"][0]
        )
        # 16 young accounts: under the default 50, so the API (default bounds) does not alert.
        assert body["alerts"] == []
        for bad in ({"from": "2026-13-01"}, {"from": "2026-07-01", "to": "2026-06-01"}):
            refused = client.get("/v1/analytics/fairness", params=bad)
            assert refused.status_code == 422, (bad, refused.text)
        agent = staff_client(app, sessions, clock, Role.agent)
        assert agent.get("/v1/analytics/fairness").status_code == 403
