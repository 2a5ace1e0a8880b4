"""Helpers for tests that run `recoup` as separate processes against a database of their own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RECOUP = [sys.executable, "-m", "recoup.cli"]


def recoup_run(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run(
        [*RECOUP, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout
