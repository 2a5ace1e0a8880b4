from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from recoup.identity import service as identity_service
from recoup.identity.auth import Require
from recoup.identity.permissions import MATRIX, Permission, Role
from recoup.kit.clock import SettableClock

PASSWORD = "correct horse battery staple"

# Routes that deliberately need no permission, and why.
OPEN_ROUTES = {
    ("GET", "/healthz"): "liveness probe",
    ("POST", "/v1/auth/sessions"): "signing in",
    ("DELETE", "/v1/auth/sessions/current"): "signing out",
    ("GET", "/v1/auth/me"): "any authenticated caller may ask who it is",
    ("POST", "/v1/auth/password"): "the one-time set-password code is the credential",
    ("POST", "/v1/webhooks/wallet/payments"): "authenticated by its HMAC signature instead",
    ("POST", "/v1/channels/twilio/inbound"): "authenticated by Twilio's signature instead",
    ("POST", "/v1/channels/twilio/status"): "authenticated by Twilio's signature instead",
    ("POST", "/v1/channels/whatsapp/status"): "authenticated by Meta's X-Hub-Signature-256",
    ("GET", "/v1/channels/whatsapp/status"): "Meta's subscription check: the verify token",
    ("POST", "/v1/channels/sms/inbound"): "authenticated by the gateway's HMAC signature instead",
    ("POST", "/v1/channels/email/inbound"): "authenticated by the e-mail provider's HMAC signature",
    ("POST", "/v1/channels/click-to-call/status"): "authenticated by telephony's HMAC signature",
    ("POST", "/v1/channels/post/status"): "authenticated by the printer's HMAC signature",
    ("GET", "/p/{token}"): "the signed pay link is the credential (the debtor's portal)",
    ("POST", "/p/{token}/pay"): "the signed pay link is the credential, with a CSRF field",
    ("GET", "/p/{token}/a/{ref}/{kind}"): "the pay link (an arrangement's form and preview)",
    (
        "POST",
        "/p/{token}/a/{ref}/{kind}",
    ): "the pay link, a CSRF field and, for binding ones, a code",
    ("GET", "/p/{token}/verify"): "the pay link (the one-time code page)",
    ("POST", "/p/{token}/code"): "the pay link with a CSRF field; rate-limited per customer",
    ("POST", "/p/{token}/verify"): "the pay link with a CSRF field; five tries per code",
    ("GET", "/p/{token}/preferences"): "the pay link and the one-time code's cookie",
    ("POST", "/p/{token}/preferences"): "the pay link, a CSRF field and the code's cookie",
    ("GET", "/p/{token}/help"): "the pay link (disputes, hardship and complaints)",
    ("POST", "/p/{token}/help"): "the pay link with a CSRF field",
    ("GET", "/p/{token}/data"): "the pay link and the one-time code's cookie",
    ("GET", "/p/{token}/chat"): "the pay link and the one-time code's cookie (the assistant)",
    ("POST", "/p/{token}/chat"): "the pay link, a CSRF field and the code's cookie",
    ("POST", "/p/{token}/data/review"): "the pay link, a CSRF field and the code's cookie",
    ("GET", "/p/{token}/learn"): "the pay link (the learning centre's list)",
    ("GET", "/p/{token}/learn/{slug}"): "the pay link (an approved article)",
    ("GET", "/p/{token}/survey"): "the pay link (the post-repayment survey)",
    ("POST", "/p/{token}/survey"): "the pay link with a CSRF field; once per survey message",
    ("GET", "/p/{token}/requests"): "the pay link; an answer's words also need the code's cookie",
    ("GET", "/p/{token}/autopay"): "the pay link and the one-time code's cookie",
    ("POST", "/p/{token}/autopay"): "the pay link, a CSRF field and the code's cookie",
    ("POST", "/p/{token}/autopay/cancel"): "the pay link, a CSRF field and the code's cookie",
    ("POST", "/sandbox/wallet/api/payments"): "the sandbox wallet: signed like the real wallet",
    ("POST", "/sandbox/wallet/api/mandates"): "the sandbox wallet: signed like the real wallet",
    ("POST", "/sandbox/wallet/api/mandates/query"): "the sandbox wallet: signed",
    ("POST", "/sandbox/wallet/api/mandates/cancel"): "the sandbox wallet: signed",
    ("POST", "/sandbox/wallet/api/mandates/collect"): "the sandbox wallet: signed",
    (
        "GET",
        "/sandbox/wallet/mandate/{mandate_id}",
    ): "the sandbox wallet's mandate approval page (not in production)",
    (
        "POST",
        "/sandbox/wallet/mandate/{mandate_id}/approve",
    ): "the sandbox wallet (not in production)",
    (
        "POST",
        "/sandbox/wallet/mandate/{mandate_id}/decline",
    ): "the sandbox wallet (not in production)",
    (
        "GET",
        "/sandbox/wallet/pay/{payment_id}",
    ): "the sandbox wallet's approval page (not in production)",
    ("POST", "/sandbox/wallet/pay/{payment_id}/approve"): "the sandbox wallet (not in production)",
    ("POST", "/sandbox/wallet/pay/{payment_id}/decline"): "the sandbox wallet (not in production)",
    ("GET", "/v1/unsubscribe/{token}"): "the signed link is the credential; a GET changes nothing",
    ("POST", "/v1/unsubscribe/{token}"): "the signed link is the credential (RFC 8058 one-click)",
}


def permission_of(route: Any) -> Permission | None:
    pending = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        if isinstance(dependant.call, Require):
            return dependant.call.permission
        pending.extend(dependant.dependencies)
    return None


def api_routes(app: FastAPI) -> list[tuple[str, str, Any]]:
    """Every (method, path, route) the app serves, including those of included routers (FastAPI
    keeps included routers as one route each and resolves their effective routes lazily)."""
    found: list[tuple[str, str, Any]] = []
    for route in app.routes:
        effective = getattr(route, "effective_route_contexts", None)
        routes = list(effective() if callable(effective) else effective or []) or [route]
        for item in routes:
            if item.path == "/" or item.path.startswith("/console"):
                continue  # the console's pages: tests/console/test_guards.py checks them
            if isinstance(item, APIRoute) or hasattr(item, "dependant"):
                found += [(method, item.path, item) for method in sorted(item.methods or [])]
    return found


# A staff id no one holds: disabling staff 1 (the matrix's first user) would end its session.
NOBODY = {"{staff_id}": "999999"}


def concrete(path: str) -> str:
    return (
        path.replace("{", "").replace("}", "").replace("_id", "")
        if "{" not in path
        else "/".join(
            NOBODY.get(part, "1") if part.startswith("{") else part for part in path.split("/")
        )
    )


@pytest.fixture
def staff(sessions: sessionmaker[Session], clock: SettableClock) -> dict[Role, str]:
    with sessions() as session:
        for role in Role:
            identity_service.create_staff(
                session,
                username=f"u-{role}",
                display_name=str(role),
                role=role,
                password=PASSWORD,
                clock=clock,
            )
        session.commit()
    return {role: f"u-{role}" for role in Role}


def signed_in(app: FastAPI, username: str) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False, base_url="https://testserver")
    response = client.post("/v1/auth/sessions", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return client


class TestAuthorizationMatrix:
    def test_every_route_declares_a_permission_or_is_knowingly_open(self, app: FastAPI) -> None:
        undeclared = [
            (method, path)
            for method, path, route in api_routes(app)
            if permission_of(route) is None and (method, path) not in OPEN_ROUTES
        ]
        assert undeclared == []

    def test_every_role_and_an_anonymous_caller_against_every_route(
        self, app: FastAPI, anonymous: TestClient, staff: dict[Role, str]
    ) -> None:
        clients = {role: signed_in(app, username) for role, username in staff.items()}
        checked = 0
        for method, path, route in api_routes(app):
            permission = permission_of(route)
            if permission is None:
                continue
            url = concrete(path)
            assert anonymous.request(method, url, json={}).status_code == 401, (method, path)
            for role, client in clients.items():
                status = client.request(method, url, json={}).status_code
                if permission in MATRIX[role]:
                    assert status not in (401, 403), (role, method, path, status)
                else:
                    assert status == 403, (role, method, path, status)
                checked += 1
        assert checked >= 6 * 15


class TestApiKeys:
    def test_a_key_without_the_scope_is_refused(
        self, anonymous: TestClient, sessions: sessionmaker[Session], clock: SettableClock
    ) -> None:
        with sessions() as session:
            key, _ = identity_service.create_api_key(
                session,
                name="reader",
                scopes=[Permission.accounts_read],
                created_by="t",
                clock=clock,
            )
            session.commit()
        headers = {"Authorization": f"Bearer {key}"}
        assert anonymous.get("/v1/accounts", headers=headers).status_code == 200
        refused = anonymous.post("/v1/customers", headers=headers, json={})
        assert refused.status_code == 403
        assert "customers:write" in refused.json()["message"]

    def test_revoked_expired_and_forged_keys_are_refused(
        self, anonymous: TestClient, sessions: sessionmaker[Session], clock: SettableClock
    ) -> None:
        with sessions() as session:
            live, _ = identity_service.create_api_key(
                session, name="a", scopes=[Permission.accounts_read], created_by="t", clock=clock
            )
            revoked, row = identity_service.create_api_key(
                session, name="b", scopes=[Permission.accounts_read], created_by="t", clock=clock
            )
            identity_service.revoke_api_key(session, row.id, clock=clock)
            expiring, _ = identity_service.create_api_key(
                session,
                name="c",
                scopes=[Permission.accounts_read],
                created_by="t",
                clock=clock,
                expires_at=clock.now() + dt.timedelta(hours=1),
            )
            session.commit()
        forged = live.rsplit("_", 1)[0] + "_" + "A" * 43
        for key in (revoked, forged, "rk_nope_nope", "not-a-key"):
            assert (
                anonymous.get(
                    "/v1/accounts", headers={"Authorization": f"Bearer {key}"}
                ).status_code
                == 401
            )
        assert (
            anonymous.get(
                "/v1/accounts", headers={"Authorization": f"Bearer {expiring}"}
            ).status_code
            == 200
        )
        clock.advance(dt.timedelta(hours=2))
        assert (
            anonymous.get(
                "/v1/accounts", headers={"Authorization": f"Bearer {expiring}"}
            ).status_code
            == 401
        )

    def test_keys_cannot_hold_staff_powers(
        self, sessions: sessionmaker[Session], clock: SettableClock
    ) -> None:
        with sessions() as session, pytest.raises(Exception, match="cannot hold"):
            identity_service.create_api_key(
                session, name="x", scopes=[Permission.customers_reveal], created_by="t", clock=clock
            )

    def test_only_a_hash_of_the_key_is_stored(
        self, sessions: sessionmaker[Session], clock: SettableClock
    ) -> None:
        with sessions() as session:
            key, row = identity_service.create_api_key(
                session, name="x", scopes=[Permission.accounts_read], created_by="t", clock=clock
            )
            secret = key.split("_", 2)[2]  # the random part may itself hold "_"
            assert len(secret) >= 40
            assert secret not in row.key_hash
            assert row.prefix in key


class TestSignIn:
    def test_cookie_is_secure_httponly_and_strict(
        self, app: FastAPI, staff: dict[Role, str]
    ) -> None:
        client = TestClient(app, base_url="https://testserver")
        response = client.post(
            "/v1/auth/sessions", json={"username": staff[Role.agent], "password": PASSWORD}
        )
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "secure" in cookie
        assert "samesite=strict" in cookie
        assert client.get("/v1/auth/me").json()["role"] == "agent"

    def test_wrong_password_and_unknown_user_answer_alike(
        self, anonymous: TestClient, staff: dict[Role, str]
    ) -> None:
        wrong = anonymous.post(
            "/v1/auth/sessions", json={"username": staff[Role.agent], "password": "nope"}
        )
        unknown = anonymous.post(
            "/v1/auth/sessions", json={"username": "ghost", "password": "nope"}
        )
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json()["message"] == unknown.json()["message"]

    def test_five_failures_lock_the_user_for_fifteen_minutes(
        self, app: FastAPI, staff: dict[Role, str], clock: SettableClock
    ) -> None:
        client = TestClient(app, raise_server_exceptions=False, base_url="https://testserver")
        user = staff[Role.supervisor]
        for _ in range(5):
            assert (
                client.post(
                    "/v1/auth/sessions", json={"username": user, "password": "bad"}
                ).status_code
                == 401
            )
        locked = client.post("/v1/auth/sessions", json={"username": user, "password": PASSWORD})
        assert locked.status_code == 401  # as a wrong password: no answer tells a user exists
        clock.advance(dt.timedelta(minutes=16))
        assert (
            client.post(
                "/v1/auth/sessions", json={"username": user, "password": PASSWORD}
            ).status_code
            == 200
        )

    def test_sign_in_attempts_are_rate_limited_per_client(self, anonymous: TestClient) -> None:
        statuses = [
            anonymous.post(
                "/v1/auth/sessions", json={"username": f"x{i}", "password": "y"}
            ).status_code
            for i in range(11)
        ]
        assert statuses[:10] == [401] * 10
        assert statuses[10] == 429

    def test_sign_out_and_idle_timeout_end_the_session(
        self, app: FastAPI, staff: dict[Role, str], clock: SettableClock
    ) -> None:
        client = signed_in(app, staff[Role.agent])
        assert client.get("/v1/auth/me").status_code == 200
        clock.advance(dt.timedelta(minutes=31))
        assert client.get("/v1/auth/me").status_code == 401
        client = signed_in(app, staff[Role.agent])
        assert client.delete("/v1/auth/sessions/current").status_code == 204
        client.cookies.clear()
        assert client.get("/v1/auth/me").status_code == 401

    def test_short_passwords_are_refused(
        self, sessions: sessionmaker[Session], clock: SettableClock
    ) -> None:
        with sessions() as session, pytest.raises(Exception, match="12 characters"):
            identity_service.create_staff(
                session,
                username="short",
                display_name="s",
                role=Role.agent,
                password="short",
                clock=clock,
            )
