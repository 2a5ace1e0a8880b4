"""Helpers for tests that run `recoup` as separate processes against a database of their own."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

RECOUP = [sys.executable, "-m", "recoup.cli"]


def recoup_run(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run(
        [*RECOUP, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def wait_until_serving(base: str, *, seconds: float = 120) -> None:
    """Poll `/healthz` until the server answers (importing the app takes 7 s of CPU: on a loaded
    two-core machine, 30 s of wall time and more)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.2)
