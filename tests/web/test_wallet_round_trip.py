"""Pay now, the whole path on real HTTP: the portal (opened from a pay link) asks the wallet's
payment API (the sandbox wallet, served by the same `recoup serve`) for a payment, the debtor
approves or declines on the wallet's page, the wallet calls the signed webhook back, and the
portal shows the result. Nothing counts until the webhook confirms it."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from recoup.arrangements.links import pay_link
from tests.processes import wait_until_serving
from tests.test_serve import free_port

LINK_KEY = "portal-test-link-key-0123456789"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
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
    try:
        wait_until_serving(base)
        yield base, headers
    finally:
        process.terminate()
        process.wait(timeout=10)


def debtor(base: str, headers: dict[str, str]) -> tuple[int, str]:
    """A customer with one bill of ¥500 ten days late; their id and a pay link path."""
    customer = httpx.post(
        f"{base}/v1/customers",
        json={
            "external_ref": "u-portal",
            "name": "王芳",
            "phones": [{"number": "13812345678"}],
            "jurisdiction": "CN",
        },
        headers=headers,
    )
    assert customer.status_code == 201, customer.text
    account = httpx.post(
        f"{base}/v1/accounts",
        json={
            "external_ref": "bnpl-portal",
            "customer_ref": "u-portal",
            "product": "bnpl",
            "currency": "CNY",
            "opened_date": "2026-01-01",
        },
        headers=headers,
    )
    assert account.status_code == 201, account.text
    due = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=10)).isoformat()
    bill = httpx.post(
        f"{base}/v1/bills",
        json={
            "account_ref": "bnpl-portal",
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


def pay(client: httpx.Client, path: str, amount: str) -> httpx.Response:
    page = client.get(path)
    assert page.status_code == 200
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert csrf is not None
    return client.post(
        f"{path}/pay",
        data={"csrf": csrf.group(1), "account": "bnpl-portal", "amount": amount},
    )


def test_pay_now_through_the_sandbox_wallet(served: tuple[str, dict[str, str]]) -> None:
    base, headers = served
    _, path = debtor(base, headers)
    with httpx.Client(base_url=base, follow_redirects=False, timeout=20) as client:
        started = pay(client, path, "200.00")
        assert started.status_code == 303, started.text
        wallet_page = started.headers["location"]
        assert wallet_page.startswith(f"{base}/sandbox/wallet/pay/")
        page = client.get(wallet_page)
        assert "¥200.00" in page.text
        before = client.get(path).text
        assert "¥500.00" in before  # nothing counts before the wallet confirms
        approved = client.post(wallet_page.removeprefix(base) + "/approve")
        assert approved.status_code == 303
        assert approved.headers["location"] == f"{base}{path}"
        after = client.get(path).text
    assert "谢谢！我们已收到您的还款。" in after
    assert "¥300.00" in after  # what remains of the bill


def test_a_declined_payment_changes_nothing(served: tuple[str, dict[str, str]]) -> None:
    base, headers = served
    _, path = debtor(base, headers)
    with httpx.Client(base_url=base, follow_redirects=False, timeout=20) as client:
        started = pay(client, path, "500")
        declined = client.post(started.headers["location"].removeprefix(base) + "/decline")
        assert declined.status_code == 303
        after = client.get(path).text
    assert "这次还款没有完成" in after
    assert "¥500.00" in after


def test_bad_amounts_and_forged_forms_are_refused_on_the_page(
    served: tuple[str, dict[str, str]],
) -> None:
    base, headers = served
    _, path = debtor(base, headers)
    with httpx.Client(base_url=base, follow_redirects=False, timeout=20) as client:
        too_much = pay(client, path, "600")
        assert too_much.status_code == 422
        assert "at most 500" in too_much.text
        nonsense = pay(client, path, "五百")
        assert nonsense.status_code == 422
        forged = client.post(
            f"{path}/pay", data={"csrf": "0" * 32, "account": "bnpl-portal", "amount": "1"}
        )
        assert forged.status_code == 403
        someone_else = client.post(
            f"{path}/pay",
            data={
                "csrf": re.search(r'name="csrf" value="([0-9a-f]+)"', client.get(path).text).group(
                    1
                ),  # type: ignore[union-attr]
                "account": "not-mine",
                "amount": "1",
            },
        )
        assert someone_else.status_code == 404
