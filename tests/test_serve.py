"""`recoup serve` as an operator runs it: a real uvicorn process on a real socket."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.processes import wait_until_serving


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    from tests.web.conftest import LINK_KEY  # it imports free_port from here

    env = {
        **os.environ,
        "RECOUP_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "RECOUP_ENCRYPTION_KEY_FILE": str(tmp_path / "keys.json"),
        "RECOUP_WALLET_WEBHOOK_SECRETS": '["whsec"]',
        "RECOUP_LINK_KEYS": json.dumps([LINK_KEY]),
    }
    env.pop("RECOUP_ENV", None)
    env.pop("RECOUP_PUBLIC_URL", None)  # as the README's `recoup serve` runs: not set
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
    key = created.stdout.strip().splitlines()[-1]
    port = free_port()
    # The server's output goes to a file, not a pipe nobody reads (a full pipe blocks the server).
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [*recoup, "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base)
        yield base, key
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def test_served_api_needs_a_key_and_masks_personal_data(server: tuple[str, str]) -> None:
    base, key = server
    customer = {
        "external_ref": "u-serve-1",
        "name": "李娜",
        "phones": [{"number": "13812345678"}],
        "jurisdiction": "CN",
    }
    assert httpx.post(f"{base}/v1/customers", json=customer).status_code == 401
    headers = {"Authorization": f"Bearer {key}"}
    created = httpx.post(f"{base}/v1/customers", json=customer, headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["name"] == "李*"
    assert body["phones"][0]["number"] == "+86138****5678"
    assert body["timezones"] == ["Asia/Shanghai"]
    docs = httpx.get(f"{base}/openapi.json")
    assert docs.status_code == 200
    assert "/v1/payments" in docs.json()["paths"]


def test_pay_now_reaches_the_sandbox_wallet_on_any_port(server: tuple[str, str]) -> None:
    """In development `recoup serve --port N` puts pay links and the sandbox wallet at port N.
    Removal caught: with RECOUP_PUBLIC_URL left at its default (:8000), "Pay now" on any other
    port called a wallet nobody serves and showed the debtor "the wallet did not take the
    payment: wallet-payments: connection failed (ConnectError)"."""
    from tests.web.conftest import debtor

    base, key = server
    _, path = debtor(base, {"Authorization": f"Bearer {key}"}, ref="serve")
    portal = httpx.get(base + path)
    assert portal.status_code == 200
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', portal.text)
    assert found is not None
    paid = httpx.post(
        f"{base}{path}/pay",
        data={"csrf": found.group(1), "account": "bnpl-serve", "amount": "100"},
    )
    assert paid.status_code == 303, paid.text
    assert paid.headers["location"].startswith(f"{base}/sandbox/wallet/pay/")
