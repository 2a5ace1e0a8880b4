"""The security probe suite (issue 18): one test per finding, named after it, each failing on the
code before its fix (the docstring says which removal it catches). Tests that need a real socket,
a real uvicorn and its real logs use `live`: a `recoup serve` of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.processes import wait_until_serving
from tests.test_serve import free_port

LIVE_LINK_KEY = "security-probe-link-key-0123456789"


class Live(NamedTuple):
    base: str
    key: str  # an API key with customers:read and customers:write
    log: Path  # the server's log file (every line it wrote, uvicorn's access log included)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """`recoup serve` as an operator runs it, on a database of its own, logging to a file."""
    tmp_path = tmp_path_factory.mktemp("live")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "recoup.log"
    env = {
        **os.environ,
        "RECOUP_DATABASE_URL": f"sqlite:///{tmp_path / 'live.db'}",
        "RECOUP_ENCRYPTION_KEY_FILE": str(tmp_path / "keys.json"),
        "RECOUP_WALLET_WEBHOOK_SECRETS": '["whsec-live"]',
        "RECOUP_LINK_KEYS": json.dumps([LIVE_LINK_KEY]),
        "RECOUP_PUBLIC_URL": base,
        "RECOUP_LOG_FILE": str(log),
    }
    for name in ("RECOUP_ENV", "RECOUP_TRUSTED_PROXIES", "FORWARDED_ALLOW_IPS"):
        env.pop(name, None)
    recoup = [sys.executable, "-m", "recoup.cli"]
    subprocess.run([*recoup, "init"], env=env, check=True, cwd=tmp_path, capture_output=True)
    created = subprocess.run(
        [*recoup, "apikeys", "create", "probe", "--scope", "customers:read"],
        env=env,
        check=True,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    key = created.stdout.strip().splitlines()[-1]
    process = subprocess.Popen(
        [*recoup, "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_serving(base)
        yield Live(base, key, log)
    finally:
        process.terminate()
        process.wait(timeout=10)
