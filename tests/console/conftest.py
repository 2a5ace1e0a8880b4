"""The console under test: `console` (a TestClient on the test database that signs in as any role
and posts forms with the CSRF field), and `served_console` (a `recoup serve` process on its own
SQLite with one staff member per role) for the browser tests (`tests/console/browser.py`)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from itertools import count
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from recoup.identity import service as identity_service
from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from recoup.models import StaffUser
from tests.processes import wait_until_serving
from tests.test_serve import free_port

PASSWORD = "console-password-1"
USERNAMES = {
    Role.agent: "agent",
    Role.supervisor: "supervisor",
    Role.strategist: "strategist",
    Role.compliance_officer: "compliance",
    Role.administrator: "admin",
    Role.auditor: "auditor",
}
LINK_KEY = "console-test-link-key-0123456789"
# The served console's integration key: what a wallet's backend sends.
SCOPES = (
    "customers:read",
    "customers:write",
    "accounts:read",
    "accounts:write",
    "payments:write",
    "arrangements:read",
    "arrangements:write",
    "cases:write",
    "preferences:write",
    "consents:write",
)
ROOT = str(Path(__file__).resolve().parents[2])
_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
_serial = count(1)
RAISE = os.environ.get("RECOUP_TEST_RAISE") == "1"  # show a 500 as its traceback


class ConsoleClient(TestClient):
    """A browser without JavaScript: signs in through the sign-in form, keeps the cookies, and
    posts forms with the page's CSRF field."""

    def __init__(self, app: FastAPI, sessions: sessionmaker[Session], clock: SettableClock) -> None:
        super().__init__(app, raise_server_exceptions=RAISE, base_url="https://testserver")
        self._sessions = sessions
        self._clock = clock
        self.csrf = ""

    def add_staff(self, role: Role, username: str | None = None) -> StaffUser:
        name = username or f"{role.value}-{next(_serial)}"
        with self._sessions() as session:
            user = identity_service.create_staff(
                session,
                username=name,
                display_name=name.title(),
                role=role,
                password=PASSWORD,
                clock=self._clock,
            )
            session.commit()
            session.refresh(user)
            session.expunge(user)
        return user

    def sign_in(self, role: Role, username: str | None = None) -> StaffUser:
        """A new staff member of `role`, signed in through the form (replacing any session)."""
        self.cookies.clear()
        user = self.add_staff(role, username)
        self.sign_in_as(user.username)
        return user

    def sign_in_as(self, username: str) -> None:
        self.cookies.clear()
        # Tests sign in far more often than a person: the per-client limit (tested on its own in
        # test_foundation) would refuse the eleventh sign-in of a minute.
        self.app.state.sign_in_limiter.reset("testclient")  # type: ignore[attr-defined]
        page = self.get("/console/sign-in")
        token = re.search(r'name="sign_in_token" value="([^"]+)"', page.text)
        assert token, page.text
        answer = self.post(
            "/console/sign-in",
            data={"sign_in_token": token[1], "username": username, "password": PASSWORD},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        self.refresh_csrf()

    def refresh_csrf(self, path: str = "/console") -> str:
        match = _CSRF.search(self.get(path).text)
        assert match, "no CSRF field on the page"
        self.csrf = match[1]
        return self.csrf

    def post_form(
        self, url: str, data: dict[str, Any] | None = None, **kwargs: Any
    ) -> httpx.Response:
        return self.post(url, data={**(data or {}), "csrf": self.csrf}, **kwargs)


@pytest.fixture
def console(
    app: FastAPI, sessions: sessionmaker[Session], clock: SettableClock
) -> Iterator[ConsoleClient]:
    with ConsoleClient(app, sessions, clock) as client:
        yield client


class ServedConsole(NamedTuple):
    base: str
    api_headers: dict[str, str]  # an integration key with the common write scopes
    recoup: Callable[..., str]  # the `recoup` command on the served database
    env: dict[str, str]


@pytest.fixture(scope="module")
def served_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedConsole]:
    """`recoup serve` on its own SQLite, with one staff member per role (`USERNAMES`, password
    `PASSWORD`) and an integration API key; one per test module (its tests share the database)."""
    tmp_path = tmp_path_factory.mktemp("console")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "RECOUP_DATABASE_URL": f"sqlite:///{tmp_path / 'console.db'}",
        "RECOUP_ENCRYPTION_KEY_FILE": str(tmp_path / "keys.json"),
        "RECOUP_WALLET_WEBHOOK_SECRETS": '["whsec-console"]',
        "RECOUP_LINK_KEYS": json.dumps([LINK_KEY]),
        "RECOUP_PUBLIC_URL": base,
    }
    env.pop("RECOUP_ENV", None)
    command = [sys.executable, "-m", "recoup.cli"]

    def run(*args: str) -> str:
        done = subprocess.run(
            [*command, *args], env=env, check=False, cwd=tmp_path, capture_output=True, text=True
        )
        assert done.returncode == 0, f"recoup {' '.join(args)}: {done.stdout}{done.stderr}"
        return done.stdout

    run("init")
    seeded = subprocess.run(
        [sys.executable, "-m", "tests.console.seed", *SCOPES],
        env={**env, "PYTHONPATH": os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))},
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert seeded.returncode == 0, seeded.stderr
    headers = {"Authorization": f"Bearer {seeded.stdout.strip().splitlines()[-1]}"}
    process = subprocess.Popen(
        [*command, "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_serving(base)
        yield ServedConsole(base, headers, run, env)
    finally:
        process.terminate()
        process.wait(timeout=10)
