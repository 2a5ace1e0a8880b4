"""The arrangements API, as the wallet's backend and staff call it."""

from __future__ import annotations

import datetime as dt

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from recoup.config import Settings
from recoup.identity import service as identity_service
from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from tests.arrangements.test_flows import DAY0, late_account
from tests.web.test_portal import link

PASSWORD = "correct horse battery staple"


def staff_client(
    app: FastAPI, session: Session, clock: SettableClock, name: str, role: Role
) -> TestClient:
    identity_service.create_staff(
        session, username=name, display_name=name, role=role, password=PASSWORD, clock=clock
    )
    session.commit()
    client = TestClient(app, raise_server_exceptions=False, base_url="https://testserver")
    signed = client.post("/v1/auth/sessions", json={"username": name, "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    return client


class TestArrangementsApi:
    def test_offers_quote_and_a_plan_made_by_the_wallet(
        self, session: Session, clock: SettableClock, client: TestClient
    ) -> None:
        account = late_account(session, clock)
        session.commit()
        offers = client.get(f"/v1/accounts/{account.id}/offers").json()
        assert offers["position"] == {
            "today": DAY0.isoformat(),
            "owed_minor": 60_000,
            "overdue_minor": 30_000,
            "currency": "CNY",
        }
        assert set(offers["offers"]) == {"promise", "extension", "plan", "settlement"}
        assert offers["offers"]["plan"]["max_instalments"] == 6
        quote = client.post(
            f"/v1/accounts/{account.id}/plan-quotes",
            json={"instalments": 2, "monthly_budget_minor": 20_000},
        )
        assert quote.status_code == 422
        assert "4 instalments would fit" in quote.json()["message"]
        quote = client.post(
            f"/v1/accounts/{account.id}/plan-quotes",
            json={"instalments": 4, "monthly_budget_minor": 20_000},
        ).json()
        assert quote["total_minor"] == 61_200
        assert [i["amount_minor"] for i in quote["schedule"]] == [15_300] * 4
        made = client.post(
            f"/v1/accounts/{account.id}/arrangements",
            json={"kind": "plan", "instalments": 4, "monthly_budget_minor": 20_000},
        )
        assert made.status_code == 201, made.text
        body = made.json()
        assert (body["kind"], body["status"], len(body["instalments"])) == ("plan", "active", 4)
        assert body["made_by"].startswith("api_key:")
        # A plan pauses offers: nothing more is offered while it holds.
        assert client.get(f"/v1/accounts/{account.id}/offers").json()["offers"] == {}
        again = client.post(
            f"/v1/accounts/{account.id}/arrangements",
            json={"kind": "promise", "amount_minor": 10_000, "date": DAY0.isoformat()},
        )
        assert again.status_code == 409
        listed = client.get(f"/v1/accounts/{account.id}/arrangements").json()
        assert [a["id"] for a in listed] == [body["id"]]

    def test_missing_fields_and_bad_kinds_are_named(
        self, session: Session, clock: SettableClock, client: TestClient
    ) -> None:
        account = late_account(session, clock)
        session.commit()
        url = f"/v1/accounts/{account.id}/arrangements"
        missing = client.post(url, json={"kind": "promise", "amount_minor": 10_000})
        assert (missing.status_code, missing.json()["message"]) == (422, "a promise needs date")
        assert client.post(url, json={"kind": "gift"}).status_code == 422
        assert client.post(url, json={"kind": "extension", "days": 30}).status_code == 422
        assert client.get("/v1/accounts/999999/offers").status_code == 404

    def test_a_supervisor_approves_what_an_agent_agreed(
        self, app: FastAPI, session: Session, clock: SettableClock
    ) -> None:
        account = late_account(session, clock)
        agent = staff_client(app, session, clock, "agent-1", Role.agent)
        deal = agent.post(
            f"/v1/accounts/{account.id}/arrangements",
            json={"kind": "settlement", "amount_minor": 40_000, "channel": "agent"},
        ).json()
        assert deal["status"] == "awaiting_approval"
        assert agent.post(f"/v1/arrangements/{deal['id']}/approve").status_code == 403
        supervisor = staff_client(app, session, clock, "sup-1", Role.supervisor)
        approved = supervisor.post(f"/v1/arrangements/{deal['id']}/approve").json()
        assert (approved["status"], approved["approved_by"]) == ("active", "staff:sup-1")
        again = supervisor.post(f"/v1/arrangements/{deal['id']}/reject")
        assert again.status_code == 409
        cancelled = agent.post(
            f"/v1/arrangements/{deal['id']}/cancel", json={"reason": "debtor changed their mind"}
        ).json()
        assert (cancelled["status"], cancelled["end_reason"]) == (
            "cancelled",
            "debtor changed their mind",
        )
        assert cancelled["ended_on"] == (DAY0 + dt.timedelta(days=0)).isoformat()


class TestRevocation:
    def test_an_agent_withdraws_a_customers_links(
        self, app: FastAPI, session: Session, clock: SettableClock, settings: Settings
    ) -> None:
        account = late_account(session, clock)
        agent = staff_client(app, session, clock, "agent-2", Role.agent)
        path = link(settings, account, clock)
        assert agent.get(path).status_code == 200
        clock.advance(dt.timedelta(seconds=1))
        revoked = agent.post(
            f"/v1/customers/{account.customer_id}/pay-links/revoke", json={"reason": "lost phone"}
        )
        assert revoked.status_code == 201, revoked.text
        assert revoked.json()["by"] == "staff:agent-2"
        assert agent.get(path).status_code == 410
        missing = agent.post("/v1/customers/999999/pay-links/revoke", json={"reason": "x"})
        assert missing.status_code == 404
