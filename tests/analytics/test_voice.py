"""The debtor's voice in analytics: the survey and the learning centre's reads over a period,
aggregates only, behind `analytics:read`."""

from __future__ import annotations

import datetime as dt

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from recoup.analytics import report, schemas, voice
from recoup.analytics import service as analytics_service
from recoup.cases import service as case_service
from recoup.education import service as education_service
from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from tests.analytics.test_api import staff_client
from tests.factories import create_customer

DAY = {"from": "2026-06-01", "to": "2026-06-01"}  # the tests' clock: 2026-06-01 10:00 Shanghai


class TestSurveyEndpoint:
    def test_counts_and_distributions_never_the_words(
        self, app: FastAPI, sessions: sessionmaker[Session], session: Session, clock: SettableClock
    ) -> None:
        for n, (treated, again) in enumerate([("5", "yes"), ("2", "no")]):
            customer = create_customer(session, clock, name=f"客户{n}")
            case_service.answer_survey(
                session,
                customer.id,
                contact_id=None,
                treated=treated,
                clear="4",
                again=again,
                text="不要泄露这句话",
                clock=clock,
            )
        session.commit()
        client = staff_client(app, sessions, clock, Role.strategist)
        answer = client.get("/v1/analytics/survey", params=DAY)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["n"] == 2
        assert {c["score"]: c["count"] for c in body["treated"]} == {1: 0, 2: 1, 3: 0, 4: 0, 5: 1}
        assert (body["self_service_again_yes"], body["self_service_again_no"]) == (1, 1)
        assert body["treated_mean"] == 3.5
        assert body["clear_mean"] == 4.0
        assert "不要泄露" not in answer.text
        assert "customer" not in answer.text
        later = client.get(
            "/v1/analytics/survey", params={"from": "2026-06-02", "to": "2026-06-30"}
        )
        assert later.json()["n"] == 0
        assert later.json()["treated_mean"] is None
        bad = client.get("/v1/analytics/survey", params={"from": "2026-06-30", "to": "2026-06-01"})
        assert bad.status_code == 422
        agent = staff_client(app, sessions, clock, Role.agent)
        assert agent.get("/v1/analytics/survey").status_code == 403


class TestArticleReadsEndpoint:
    def test_reads_per_article_and_language(
        self, app: FastAPI, sessions: sessionmaker[Session], session: Session, clock: SettableClock
    ) -> None:
        for language in ("zh-CN", "zh-CN", "en"):
            education_service.read(
                session, "spotting-fraud", language=language, jurisdiction="CN", clock=clock
            )
        session.commit()
        client = staff_client(app, sessions, clock, Role.strategist)
        answer = client.get("/v1/analytics/article-reads", params=DAY)
        assert answer.status_code == 200, answer.text
        reads = {(r["article"], r["language"]): r["reads"] for r in answer.json()["reads"]}
        assert reads == {("spotting-fraud", "en"): 1, ("spotting-fraud", "zh-CN"): 2}
        assert answer.json()["total"] == 3


class TestReportSection:
    def test_the_report_shows_the_survey_and_the_reads_in_both_languages(
        self, session: Session, clock: SettableClock
    ) -> None:
        customer = create_customer(session, clock)
        case_service.answer_survey(
            session,
            customer.id,
            contact_id=None,
            treated="5",
            clear="3",
            again="yes",
            text="只在数据库里",
            clock=clock,
        )
        education_service.read(
            session, "your-rights", language="zh-TW", jurisdiction="CN", clock=clock
        )
        period = schemas.Period(from_date=dt.date(2026, 6, 1), to_date=dt.date(2026, 6, 1))
        page = report.render(
            analytics_service.report_data(session, period),
            lang="zh-CN",
            generated_at=clock.now(),
            voice=(voice.survey(session, period), voice.article_reads(session, period)),
        )
        assert "客户之声" in page
        assert "The debtor&#x27;s voice" in page or "The debtor's voice" in page
        assert "<td>your-rights</td><td>zh-TW</td><td>1</td>" in page
        assert "<td>5</td><td>1</td><td>0</td>" in page  # score 5: treated 1, clear 0
        assert "只在数据库里" not in page
