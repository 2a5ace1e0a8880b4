"""Invariant 6 end to end: a whole demo's log lines hold none of the portfolio's personal data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, selectinload

from recoup.bootstrap import load_master
from recoup.cli.common import configure_logging
from recoup.config import Settings
from recoup.keys import service as keys_service
from recoup.kit import crypto
from recoup.kit import logging as kit_logging
from recoup.models import Customer


def test_demo_logs_carry_no_personal_data(tmp_path: Path) -> None:
    log_file = tmp_path / "recoup.log.jsonl"
    env = {
        **os.environ,
        "RECOUP_LOG_LEVEL": "DEBUG",
        "RECOUP_LOG_FILE": str(log_file),
        "RECOUP_ENCRYPTION_KEY_FILE": str(tmp_path / "keys.json"),
        "RECOUP_AUDIT_SIGNING_KEY_FILE": str(tmp_path / "audit.pem"),
    }
    env.pop("RECOUP_DATABASE_URL", None)
    demo = subprocess.run(
        [
            sys.executable,
            "-m",
            "recoup.cli",
            "demo",
            "--accounts",
            "150",
            "--days",
            "3",
            "--database",
            "demo.db",
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert demo.returncode == 0, demo.stderr[-2000:]
    lines = log_file.read_text(encoding="utf-8").splitlines()
    events = {json.loads(line)["event"] for line in lines}
    assert {"ingest.file_imported", "delinquency.pass_finished"} <= events

    master = load_master(Settings(encryption_key_file=tmp_path / "keys.json"))
    secrets: set[str] = set()
    with Session(create_engine(f"sqlite:///{tmp_path / 'demo.db'}")) as session:
        crypto.install_keyring(keys_service.load_keyring(session, master))
        customers = (
            session.execute(
                select(Customer).options(
                    selectinload(Customer.phones), selectinload(Customer.emails)
                )
            )
            .scalars()
            .all()
        )
        assert 100 < len(customers) < 150  # 150 accounts, some customers holding two
        for customer in customers:
            secrets.add(customer.name)
            if customer.national_id:
                secrets.add(customer.national_id)
            for phone in customer.phones:
                secrets.update({phone.number, phone.number.lstrip("+"), phone.number[-10:]})
            for email in customer.emails:
                secrets.add(email.address)
    text = log_file.read_text(encoding="utf-8")
    leaked = sorted(s for s in secrets if s and s in text)
    assert leaked == []
    # The demo's own screen shows a sent message, the debtor's name masked.
    assert "an SMS as sent" in demo.stdout
    assert sorted(s for s in secrets if s and s in demo.stdout) == []


def test_redaction_by_key_and_by_shape(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    with path.open("w", encoding="utf-8") as stream:
        kit_logging.configure(level="DEBUG", stream=stream)
        try:
            kit_logging.get_logger("t").info(
                "customer.note",
                customer_id=7,
                name="王强",
                phones=["+8613812345678"],
                note="call 13812345678, (212) 555-0100 or li.na@example.com; ID 110101199003071234",
            )
        finally:
            kit_logging.configure(level="WARNING")
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["customer_id"] == 7
    assert record["name"] == "[redacted]"
    assert record["phones"] == "[redacted]"
    assert record["note"] == "call [phone], [phone] or [email]; ID [national-id]"


def test_request_logs_never_carry_a_link_token() -> None:
    from recoup.api.app import loggable_path

    assert loggable_path("/p/eyJrIjoi.GYAo-G0A/a/acc-1/plan") == "/p/{token}/a/acc-1/plan"
    assert loggable_path("/p/eyJrIjoi.GYAo-G0A") == "/p/{token}"
    assert loggable_path("/v1/unsubscribe/abc.def") == "/v1/unsubscribe/{token}"
    assert loggable_path("/v1/accounts/7") == "/v1/accounts/7"


def test_a_maximum_level_quiets_warnings_and_keeps_errors(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo's terminal (`configure_logging(maximum="ERROR")`): a drift alert's warning is not
    printed between its tables, an error still is. Without the `maximum` clause the warning shows."""
    monkeypatch.delenv("RECOUP_LOG_LEVEL", raising=False)
    monkeypatch.delenv("RECOUP_LOG_FILE", raising=False)
    log = kit_logging.get_logger("tests.maximum")
    try:
        configure_logging(maximum="ERROR")
        log.warning("risk.drift_alert", feature="tenure_days")
        log.error("demo.failed")
        err = capsys.readouterr().err
        assert "demo.failed" in err
        assert "risk.drift_alert" not in err
        configure_logging()  # the default level (WARNING) prints it
        log.warning("risk.drift_alert", feature="tenure_days")
        assert "risk.drift_alert" in capsys.readouterr().err
    finally:
        kit_logging.configure(level="WARNING")
