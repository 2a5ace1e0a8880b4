"""Every API route refuses a query parameter it does not take, and a date that is not YYYY-MM-DD
(`http.deps.known_query_only`, `http.deps.IsoDate`)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from recoup.identity.permissions import Role
from tests.identity.test_auth import api_routes, signed_in, staff  # noqa: F401  (a fixture)


@pytest.fixture
def supervisor(app: FastAPI, staff: dict[Role, str]) -> TestClient:  # noqa: F811
    return signed_in(app, staff[Role.supervisor])


class TestUnknownQueryParameters:
    def test_refused_with_a_422_naming_it(self, client: TestClient) -> None:
        # Catches the routers included without the check (api.app's `API` dependencies).
        response = client.get("/v1/autopay/mandates", params={"customer_id": "1", "ofset": "10"})
        assert response.status_code == 422, response.text
        assert "'ofset'" in response.json()["message"]
        assert "customer_id" in response.json()["message"]  # what the route takes

    def test_a_nameless_parameter_too(self, supervisor: TestClient) -> None:
        response = supervisor.get("/v1/analytics/fairness?=false")
        assert response.status_code == 422, response.text

    def test_the_declared_ones_pass(self, client: TestClient, supervisor: TestClient) -> None:
        listed = client.get("/v1/autopay/mandates", params={"customer_id": "1", "limit": "5"})
        assert listed.status_code == 200, listed.text
        inbox = supervisor.get("/v1/cases", params={"limit": "5", "kind": "dispute"})
        assert inbox.status_code == 200, inbox.text

    def test_every_api_route_is_held_to_it(self, app: FastAPI) -> None:
        # The unsubscribe link is opened by mail clients and browsers like the portal's pages.
        api = [
            (m, p, r)
            for m, p, r in api_routes(app)
            if p.startswith("/v1/") and not p.startswith("/v1/unsubscribe/")
        ]
        assert len(api) > 100
        unchecked = [
            f"{m} {p}"
            for m, p, r in api
            if not any(
                getattr(d.call, "__name__", "") == "known_query_only"
                for d in r.dependant.dependencies
            )
        ]
        assert unchecked == []


class TestDates:
    def test_a_number_is_not_a_date(self, supervisor: TestClient) -> None:
        # The lax parser read it as a Unix timestamp and answered for 1 January 1970.
        response = supervisor.get("/v1/analytics/kpis", params={"to": "-2.7630198274435168e-288"})
        assert response.status_code == 422, response.text
        assert "YYYY-MM-DD" in response.text

    def test_an_iso_date_is(self, supervisor: TestClient) -> None:
        response = supervisor.get("/v1/analytics/kpis", params={"to": "2026-06-30"})
        assert response.status_code == 200, response.text
        assert response.json()["period"]["to_date"] == "2026-06-30"
