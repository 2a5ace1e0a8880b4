"""Key rotation as an operator runs it: `recoup keys rotate` in its own process while a real
`recoup serve` answers reads and takes writes; no request fails and no value stays under the old key.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, selectinload

from recoup.bootstrap import load_master
from recoup.config import Settings
from recoup.keys import service as keys_service
from recoup.kit import crypto
from recoup.models import Customer, KeyState
from tests.processes import recoup_run as run
from tests.processes import wait_until_serving
from tests.test_serve import free_port

RECOUP = [sys.executable, "-m", "recoup.cli"]


def test_rotation_under_load_fails_no_request_and_leaves_nothing_under_the_old_key(
    tmp_path: Path, process_database: str
) -> None:
    """Clients read and write while `recoup keys rotate` runs; an exception inside a client thread
    (a refused connection, a timeout) is re-raised here: a thread that died early would otherwise
    leave the test passing on the requests made before it died."""
    env = {
        **os.environ,
        "RECOUP_DATABASE_URL": process_database,
        "RECOUP_ENCRYPTION_KEY_FILE": str(tmp_path / "keys.json"),
        "RECOUP_WALLET_WEBHOOK_SECRETS": '["whsec"]',
    }
    env.pop("RECOUP_ENV", None)
    env.pop("RECOUP_TEST_DATABASE_URL", None)
    run(env, tmp_path, "init")
    run(env, tmp_path, "generate", "--customers", "200", "--seed", "5")
    key = (
        run(
            env,
            tmp_path,
            "apikeys",
            "create",
            "load",
            "--scope",
            "customers:read",
            "--scope",
            "customers:write",
        )
        .strip()
        .splitlines()[-1]
    )
    master = load_master(Settings(encryption_key_file=tmp_path / "keys.json"))
    engine = create_engine(process_database)
    with Session(engine) as session:
        old_key = keys_service.load_keyring(session, master).active
        ids = list(session.execute(select(Customer.id)).scalars())

    port = free_port()
    server = subprocess.Popen(
        [*RECOUP, "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "server.log").open("w"),
    )
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {key}"}
    failures: list[str] = []
    reads = writes = 0
    stop = threading.Event()
    errors: list[BaseException] = []  # raised inside a thread: re-raised here, never lost

    def collected(body: Callable[[], None]) -> Callable[[], None]:
        def run_body() -> None:
            try:
                body()
            except BaseException as exc:
                errors.append(exc)
                stop.set()

        return run_body

    def reader() -> None:
        nonlocal reads
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            while not stop.is_set():
                r = client.get(f"/v1/customers/{random.choice(ids)}")
                reads += 1
                if r.status_code != 200:
                    failures.append(f"GET {r.status_code} {r.text[:200]}")

    def writer() -> None:
        nonlocal writes
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            while not stop.is_set():
                n = writes
                body = {
                    "external_ref": f"during-rotation-{n}",
                    "name": f"Rotation Writer {n}",
                    "phones": [{"number": f"+86138{n:08d}"}],
                    "jurisdiction": "CN",
                }
                r = client.post("/v1/customers", json=body)
                writes += 1
                if r.status_code != 201:
                    failures.append(f"POST {r.status_code} {r.text[:200]}")
                time.sleep(0.05)

    try:
        wait_until_serving(base)
        threads = [threading.Thread(target=collected(reader)) for _ in range(2)] + [
            threading.Thread(target=collected(writer))
        ]
        for t in threads:
            t.start()
        time.sleep(1)
        rotated = run(env, tmp_path, "keys", "rotate", "--batch-size", "50")
        time.sleep(1)
        stop.set()
        for t in threads:
            t.join(timeout=30)
        assert not any(t.is_alive() for t in threads), "a client thread did not stop"
        if errors:
            raise errors[0]
        # A write after the rotation is sealed under the new key: the server picked it up.
        late = httpx.post(
            f"{base}/v1/customers",
            json={
                "external_ref": "after-rotation",
                "name": "After Rotation",
                "phones": [{"number": "+8613900000001"}],
                "jurisdiction": "CN",
            },
            headers=headers,
        )
        assert late.status_code == 201, late.text
    finally:
        stop.set()
        server.terminate()
        server.wait(timeout=10)

    assert failures == []
    assert reads > 50
    assert writes > 5
    assert "rotated" in rotated
    with Session(engine) as session:
        keyring = keys_service.load_keyring(session, master)
        assert keyring.active != old_key
        usage = keys_service.usage(session)
        assert set(usage) == {keyring.active}, usage  # nothing left under the old key
        states = {k.key.id: k.key.state for k in keys_service.status(session)}
        assert states[old_key] == KeyState.retired
        crypto.install_keyring(keyring)
        customers = (
            session.execute(select(Customer).options(selectinload(Customer.phones))).scalars().all()
        )
        assert len(customers) == 200 + writes + 1
        assert all(c.name and c.phones[0].number.startswith("+") for c in customers)
    engine.dispose()
