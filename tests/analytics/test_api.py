"""The analytics endpoints: the same figures as the service, a permission of their own, and a
clear 422 for a period that makes no sense."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from recoup.identity import service as identity_service
from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from tests.analytics.test_kpis import build

PASSWORD = "correct horse battery staple"


def staff_client(
    app: FastAPI, sessions: sessionmaker[Session], clock: SettableClock, role: Role
) -> TestClient:
    with sessions() as session:
        identity_service.create_staff(
            session,
            username=f"a-{role}",
            display_name=str(role),
            role=role,
            password=PASSWORD,
            clock=clock,
        )
        session.commit()
    client = TestClient(app, raise_server_exceptions=False, base_url="https://testserver")
    signed = client.post("/v1/auth/sessions", json={"username": f"a-{role}", "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    return client


class TestEndpoints:
    def test_kpis_roll_rates_and_experiments_of_a_period(
        self,
        app: FastAPI,
        sessions: sessionmaker[Session],
        session: Session,
        clock: SettableClock,
    ) -> None:
        build(session, clock)
        session.commit()
        client = staff_client(app, sessions, clock, Role.strategist)
        query = {"from": "2026-06-01", "to": "2026-06-30"}
        kpis = client.get("/v1/analytics/kpis", params=query)
        assert kpis.status_code == 200, kpis.text
        [cny] = kpis.json()["recovery"]
        assert (cny["base_minor"], cny["collected_minor"]) == (430_000, 200_000)
        rolls = client.get("/v1/analytics/roll-rates", params=query).json()
        assert rolls["snapshots"] == ["2026-05-31", "2026-06-30"]
        assert rolls["buckets"] == ["M0", "M1", "M2"]
        experiments = client.get("/v1/analytics/experiments", params=query)
        assert experiments.status_code == 200
        assert experiments.json()["experiments"] == []
        # No period given: the 30 days up to the last daily pass.
        default = client.get("/v1/analytics/kpis").json()
        assert default["period"] == {"from_date": "2026-06-01", "to_date": "2026-06-30"}

    def test_a_bad_period_is_a_422_not_a_500(
        self, app: FastAPI, sessions: sessionmaker[Session], clock: SettableClock
    ) -> None:
        client = staff_client(app, sessions, clock, Role.auditor)
        backwards = client.get(
            "/v1/analytics/kpis", params={"from": "2026-07-01", "to": "2026-06-01"}
        )
        assert backwards.status_code == 422
        assert "starts" in backwards.json()["message"]
        garbled = client.get("/v1/analytics/roll-rates", params={"from": "June"})
        assert garbled.status_code == 422

    def test_agents_do_not_see_portfolio_figures(
        self, app: FastAPI, sessions: sessionmaker[Session], clock: SettableClock
    ) -> None:
        client = staff_client(app, sessions, clock, Role.agent)
        assert client.get("/v1/analytics/kpis").status_code == 403
