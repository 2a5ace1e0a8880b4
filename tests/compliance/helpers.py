"""Scenario builders for the compliance tests: one debtor, one debt, a planned contact."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from recoup.compliance import Decision, check, load_guard
from recoup.config import get_settings

GUARD = load_guard()
PHONES = {
    "US": "+12125550100",
    "US-MA": "+16175550100",
    "US-WA": "+12065550100",
    "US-NY-NYC": "+12125550199",
    "CN": "+8613812345678",
    "GB": "+447700900123",
    "IE": "+353871234567",
    "NL": "+31612345678",
    "GR": "+306912345678",
    "IN": "+919812345678",
    "PH": "+639171234567",
    "ID": "+6281234567890",
    "VN": "+84912345678",
    "TH": "+66812345678",
}
ZONES = {
    "US": ["America/New_York"],
    "US-MA": ["America/New_York"],
    "US-WA": ["America/Los_Angeles"],
    "US-NY-NYC": ["America/New_York"],
    "CN": ["Asia/Shanghai"],
    "GB": ["Europe/London"],
    "IE": ["Europe/Dublin"],
    "NL": ["Europe/Amsterdam"],
    "GR": ["Europe/Athens"],
    "IN": ["Asia/Kolkata"],
    "PH": ["Asia/Manila"],
    "ID": ["Asia/Jakarta"],
    "VN": ["Asia/Ho_Chi_Minh"],
    "TH": ["Asia/Bangkok"],
}
EMAIL = "debtor@example.com"


def scenario(jurisdiction: str, at: str, channel: str = "call", **extra: Any) -> dict[str, Any]:
    """A planned contact by the creditor to the debtor about debt d1 (20 days past due)."""
    country = jurisdiction.split("-")[0]
    data: dict[str, Any] = {
        "at": at,
        "channel": channel,
        "collector": {"role": "creditor", "name": "Recoup Wallet"},
        "party": {"role": "debtor"},
        "debtor": {
            "jurisdiction": jurisdiction,
            "zones": ZONES.get(jurisdiction, []),
            "phones": [{"number": PHONES.get(jurisdiction, "+12125550100"), "type": "mobile"}],
            "emails": [{"address": EMAIL}],
            "address": {"country": country},
            "consents": [],
            "opt_outs": [],
            "flags": [],
        },
        "debt": {"id": "d1", "product": "bnpl", "days_past_due": 20},
        "history": [],
    }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key].update(value)
        else:
            data[key] = value
    return data


def call(at: str, result: str = "connected", **extra: Any) -> dict[str, Any]:
    return {"at": at, "channel": "call", "result": result, "debt_ids": ["d1"], **extra}


def decide(data: dict[str, Any]) -> Decision:
    return check(GUARD, data)


def rules(d: Decision) -> set[str]:
    return {r.rule for r in d.reasons}


def codes(d: Decision) -> set[str]:
    return {r.code.value for r in d.reasons}


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


def configure_house(monkeypatch: Any, path: Path, text: str) -> Path:
    """Write `text` as the deployment's house policy at `path` and configure it the way a
    deployment does (`RECOUP_COMPLIANCE_HOUSE_FILE`), the settings read afresh."""
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("RECOUP_COMPLIANCE_HOUSE_FILE", str(path))
    get_settings.cache_clear()
    return path


# Sundays off (every day but Sunday, at any hour): a house rule the packs do not have.
NO_SUNDAYS = """\
rules:
  - id: acme.no_sundays
    kind: hours
    title: No contact on Sundays
    title_zh: 周日不联系
    window: {from: "00:00", to: "24:00"}
    days: [mon, tue, wed, thu, fri, sat]
"""
