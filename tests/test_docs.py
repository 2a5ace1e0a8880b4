"""The README says what is true: every setting is in its configuration table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from recoup.config import Settings

pytestmark = pytest.mark.pure
ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_configuration_table() -> None:
    """Catches a setting added to config.py (RECOUP_AUDIT_SIGNING_KEY_FILE, which production
    requires, was missing) without its row."""
    rows = set(re.findall(r"^\| `(RECOUP_[A-Z_*]+)` \|", README, flags=re.MULTILINE))
    for name in Settings.model_fields:
        env = f"RECOUP_{name.upper()}"
        assert env in rows or any(r.endswith("*") and env.startswith(r[:-1]) for r in rows), env
