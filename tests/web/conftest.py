"""A served Recoup (its own SQLite database, the sandbox wallet, a known link key) and a debtor
in it, for the tests that drive the portal over real HTTP."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest

from recoup.arrangements.links import pay_link
from tests.processes import wait_until_serving
from tests.test_serve import free_port

LINK_KEY = "portal-test-link-key-0123456789"


class Served(NamedTuple):
    base: str
    headers: dict[str, str]  # the wallet's API key
    recoup: Callable[..., str]  # the `recoup` command on the served database


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "RECOUP_DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}",
        "RECOUP_ENCRYPTION_KEY_FILE": str(tmp_path / "keys.json"),
        "RECOUP_WALLET_WEBHOOK_SECRETS": '["whsec-portal"]',
        "RECOUP_LINK_KEYS": json.dumps([LINK_KEY]),
        "RECOUP_PUBLIC_URL": base,
    }
    env.pop("RECOUP_ENV", None)
    recoup = [sys.executable, "-m", "recoup.cli"]
    subprocess.run([*recoup, "init"], env=env, check=True, cwd=tmp_path, capture_output=True)
    created = subprocess.run(
        [
            *recoup,
            "apikeys",
            "create",
            "wallet",
            "--scope",
            "customers:write",
            "--scope",
            "accounts:write",
        ],
        env=env,
        check=True,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    headers = {"Authorization": f"Bearer {created.stdout.strip().splitlines()[-1]}"}
    process = subprocess.Popen(
        [*recoup, "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def run(*args: str) -> str:
        done = subprocess.run(
            [*recoup, *args], env=env, check=True, cwd=tmp_path, capture_output=True, text=True
        )
        return done.stdout

    try:
        wait_until_serving(base)
        yield Served(base, headers, run)
    finally:
        process.terminate()
        process.wait(timeout=10)


def debtor(
    base: str, headers: dict[str, str], *, ref: str = "portal", days_late: int = 10
) -> tuple[int, str]:
    """A customer with one bill of ¥500 `days_late` days late; their id and a pay link path."""
    n = sum(map(ord, ref)) % 10_000
    customer = httpx.post(
        f"{base}/v1/customers",
        json={
            "external_ref": f"u-{ref}",
            "name": "王芳",
            "phones": [{"number": f"1381234{n:04d}"}],
            "jurisdiction": "CN",
        },
        headers=headers,
    )
    assert customer.status_code == 201, customer.text
    account = httpx.post(
        f"{base}/v1/accounts",
        json={
            "external_ref": f"bnpl-{ref}",
            "customer_ref": f"u-{ref}",
            "product": "bnpl",
            "currency": "CNY",
            "opened_date": "2026-01-01",
        },
        headers=headers,
    )
    assert account.status_code == 201, account.text
    due = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days_late)).isoformat()
    bill = httpx.post(
        f"{base}/v1/bills",
        json={
            "account_ref": f"bnpl-{ref}",
            "external_ref": "b-1",
            "due_date": due,
            "principal_minor": 50_000,
        },
        headers=headers,
    )
    assert bill.status_code == 201, bill.text
    url = pay_link(
        base,
        LINK_KEY.encode(),
        customer_id=customer.json()["id"],
        contact_id=None,
        now=dt.datetime.now(dt.UTC),
    )
    return customer.json()["id"], url.removeprefix(base)
