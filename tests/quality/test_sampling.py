"""QA sampling: a seeded draw of the messages sent and calls placed in a period (the same seed
draws the same contacts), each reviewed once against the checklist with findings; through the
service and the API (qa:review)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from recoup.contact import repository as contact_repository
from recoup.identity import service as identity_service
from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from recoup.kit.errors import ValidationFailed
from recoup.models import Account, AuditEvent, ContactPlan, QaReview
from recoup.quality import service as qa_service
from recoup.quality.service import AlreadyReviewed
from tests.factories import create_account, shanghai

DAY = dt.date(2026, 6, 10)
_seq = itertools.count()
PASSWORD = "correct horse battery staple"
ALL_YES = {
    "identified_self": "yes",
    "right_party_verified": "yes",
    "no_threat": "yes",
    "correct_amount": "yes",
    "within_hours": "yes",
    "disclosure_given": "yes",
}


def sent(
    session: Session,
    account: Account,
    at: dt.datetime,
    *,
    channel: str = "sms",
    status: str = "sent",
) -> ContactPlan:
    """A contact that left, written through the contact repository."""
    contact = ContactPlan(
        account_id=account.id,
        customer_id=account.customer_id,
        as_of_date=at.date(),
        stage="early",
        treatment=f"reminder-{next(_seq)}",
        channel=channel,
        template="reminder",
        tone="neutral",
        status=status,
        scheduled_at=at,
        reasons=[],
        purpose="collection",
        sent_at=at,
        created_at=at,
    )
    contact_repository.add_plans(session, [contact])
    return contact


def world(session: Session, clock: SettableClock) -> dict[str, list[int]]:
    account = create_account(session, clock)
    out: dict[str, list[int]] = {"in": [], "out": []}
    for i in range(30):
        channel = ("sms", "email", "dial")[i % 3]
        out["in"].append(
            sent(session, account, shanghai(DAY, 10) + dt.timedelta(minutes=i), channel=channel).id
        )
    # Outside the period, not sent, or the queue entry: never drawn.
    out["out"].append(sent(session, account, shanghai(DAY + dt.timedelta(days=5), 10)).id)
    out["out"].append(sent(session, account, shanghai(DAY, 11), status="planned").id)
    out["out"].append(sent(session, account, shanghai(DAY, 11), channel="call").id)
    return out


def draw(session: Session, clock: SettableClock, seed: int, size: int = 8) -> list[int]:
    sample = qa_service.draw_sample(
        session, start=DAY, end=DAY, size=size, seed=seed, actor="staff:qa", clock=clock
    )
    _, items = qa_service.get_sample(session, sample.id)
    return [i.contact_id for i in items]


class TestSampling:
    def test_the_same_seed_draws_the_same_contacts(
        self, session: Session, clock: SettableClock
    ) -> None:
        ids = world(session, clock)
        first = draw(session, clock, seed=42)
        assert len(first) == 8
        assert set(first) <= set(ids["in"])
        assert draw(session, clock, seed=42) == first
        assert draw(session, clock, seed=43) != first
        # Asking for more than went out draws everything that went out, once.
        assert sorted(draw(session, clock, seed=1, size=200)) == sorted(ids["in"])

    def test_bounds(self, session: Session, clock: SettableClock) -> None:
        with pytest.raises(ValidationFailed, match="end"):
            qa_service.draw_sample(
                session,
                start=DAY,
                end=DAY + dt.timedelta(days=100),
                size=5,
                seed=1,
                actor="x",
                clock=clock,
            )
        with pytest.raises(ValidationFailed, match="size"):
            qa_service.draw_sample(
                session, start=DAY, end=DAY, size=0, seed=1, actor="x", clock=clock
            )


class TestReview:
    def test_a_review_is_stored_once_and_a_no_fails_it_with_findings(
        self, session: Session, clock: SettableClock
    ) -> None:
        world(session, clock)
        sample = qa_service.draw_sample(
            session, start=DAY, end=DAY, size=2, seed=7, actor="staff:qa", clock=clock
        )
        _, (first, second) = qa_service.get_sample(session, sample.id)
        qa_service.review(
            session, first.id, checks=ALL_YES, findings="", actor="staff:qa", clock=clock
        )
        with pytest.raises(ValidationFailed, match="findings"):
            qa_service.review(
                session,
                second.id,
                checks={**ALL_YES, "no_threat": "no"},
                findings=" ",
                actor="staff:qa",
                clock=clock,
            )
        qa_service.review(
            session,
            second.id,
            checks={**ALL_YES, "no_threat": "no"},
            findings="said the account would go to the police",
            actor="staff:qa",
            clock=clock,
        )
        session.expire_all()
        stored = {r.id: r for r in session.execute(select(QaReview)).scalars()}
        assert stored[first.id].status == "passed"
        assert stored[second.id].status == "failed"
        assert stored[second.id].findings == "said the account would go to the police"
        assert stored[second.id].checks["no_threat"] == "no"
        with pytest.raises(AlreadyReviewed):
            qa_service.review(
                session, first.id, checks=ALL_YES, findings="", actor="staff:qb", clock=clock
            )
        summary = qa_service.samples(session)[0]
        assert (summary.pending, summary.passed, summary.failed) == (0, 1, 1)
        actions = session.execute(select(AuditEvent.action).where(AuditEvent.action.like("qa.%")))
        assert sorted(actions.scalars()) == ["qa.reviewed", "qa.reviewed", "qa.sampled"]


class TestThroughTheApi:
    def test_a_compliance_officer_draws_and_reviews_an_agent_may_not(
        self, app: FastAPI, sessions: sessionmaker[Session], clock: SettableClock
    ) -> None:
        with sessions() as session:
            world(session, clock)
            for role in (Role.compliance_officer, Role.agent):
                identity_service.create_staff(
                    session,
                    username=f"u-{role}",
                    display_name=str(role),
                    role=role,
                    password=PASSWORD,
                    clock=clock,
                )
            session.commit()
        clients = {}
        for role in (Role.compliance_officer, Role.agent):
            c = TestClient(app, raise_server_exceptions=False, base_url="https://testserver")
            assert (
                c.post(
                    "/v1/auth/sessions", json={"username": f"u-{role}", "password": PASSWORD}
                ).status_code
                == 200
            )
            clients[role] = c
        body = {"start": DAY.isoformat(), "end": DAY.isoformat(), "size": 3, "seed": 99}
        assert clients[Role.agent].post("/v1/qa/samples", json=body).status_code == 403
        officer = clients[Role.compliance_officer]
        made = officer.post("/v1/qa/samples", json=body)
        assert made.status_code == 201, made.text
        again = officer.post("/v1/qa/samples", json=body).json()
        assert [i["contact_id"] for i in again["items"]] == [
            i["contact_id"] for i in made.json()["items"]
        ]
        item = made.json()["items"][0]
        reviewed = officer.post(
            f"/v1/qa/reviews/{item['id']}", json={"checks": ALL_YES, "findings": "fine"}
        )
        assert reviewed.status_code == 200, reviewed.text
        assert reviewed.json()["status"] == "passed"
        twice = officer.post(f"/v1/qa/reviews/{item['id']}", json={"checks": ALL_YES})
        assert twice.status_code == 409
        bad = officer.post(
            "/v1/qa/samples", json={**body, "end": (DAY + dt.timedelta(days=200)).isoformat()}
        )
        assert bad.status_code == 422
        assert "end" in bad.text
