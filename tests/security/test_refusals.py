"""Bad input gets a clear 4xx or a one-line error naming what and where: a signed body that is not
JSON (finding 9), import errors on the console (finding 12); and a refused sign-in never tells
whether the username exists (finding 11)."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from recoup.cli.main import app as cli
from recoup.identity import service as identity_service
from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from tests.api.test_ingest_api import signed
from tests.identity.test_auth import PASSWORD

WEBHOOK = "/v1/webhooks/wallet/payments"


@pytest.mark.parametrize(
    "body",
    [b"\xff\xfe\x00not json", b"not json at all", b'{"event_id": "\xc3\x28"}', b"[1, 2", b""],
)
def test_finding_09_a_signed_body_that_is_not_json_is_a_422(
    anonymous: TestClient, clock: SettableClock, body: bytes
) -> None:
    """A correctly signed delivery whose body is not JSON (or not UTF-8) is a 422 whose details
    name fields and problems and echo none of the bytes. Catches `json_event` passing pydantic's
    errors through with their `input` again (the renderer then meets raw bytes: a 500)."""
    response = anonymous.post(
        WEBHOOK, content=body, headers=signed(body, int(clock.now().timestamp()))
    )
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["error"] == "validation_failed"
    assert all(set(detail) == {"field", "problem"} for detail in error["details"])


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("RECOUP_ENCRYPTION_KEYS", "RECOUP_ENCRYPTION_KEY_FILE", "RECOUP_ENV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RECOUP_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    result = CliRunner().invoke(cli, ["init"])
    assert result.exit_code == 0, result.output
    return tmp_path


def test_finding_12_import_errors_keep_their_field_on_the_console(workdir: Path) -> None:
    """Each error line keeps `[field]` and the value it quotes, even one that reads as Rich markup
    (`[/]`, `[bold]`): the command ends with exit 1 and its report, not a MarkupError. Catches
    removing `escape` from `cli.imports.run_import`."""
    (workdir / "bills.csv").write_text(
        "account_ref,external_ref,due_date,principal_minor\na1,i1,[/],100\na1,i2,[bold]x,100\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["import", "bills.csv"])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    output = " ".join(result.output.split())
    assert "bills.csv:2 [due_date]: is not a date (YYYY-MM-DD): [/]" in output
    assert "bills.csv:3 [due_date]: is not a date (YYYY-MM-DD): [bold]x" in output


def test_import_errors_report_is_private_and_masks_rejected_contacts(workdir: Path) -> None:
    """`import-errors.csv` is readable by its owner only and repeats no rejected phone number or
    e-mail address verbatim (they are quoted masked), while still naming file, line and field.
    Catches `write_report` creating the file with the process umask (0644) or `_problem_of` in
    `ingest.customers` quoting values as given."""
    os.umask(0o022)
    (workdir / "customers.csv").write_text(
        "external_ref,name,phones,emails,jurisdiction\n"
        "c1,李娜,+86 1381234,li.na.rejected@@example.com,CN\n"
        "c2,王强,12,wang.qiang@example,CN\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["import", "customers.csv"])
    assert result.exit_code == 1, result.output
    report = workdir / "import-errors.csv"
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    text = report.read_text(encoding="utf-8")
    assert "customers.csv,2,phones," in text
    assert "customers.csv,2,emails," in text
    for value in ("1381234", "li.na.rejected", "wang.qiang", "+86 1381234"):
        assert value not in text, text
        assert value not in result.output
    assert "'+86 13*1234' is not a valid phone number" in text  # masked as everywhere else
    assert "'l***@@example.com' is not an e-mail address" in text


def test_finding_11_sign_in_does_not_tell_which_usernames_exist(
    app: FastAPI, sessions: sessionmaker[Session], clock: SettableClock
) -> None:
    """A locked user (even given its right password) gets exactly the answer a missing user gets:
    same status, same body. Catches `identity.service.sign_in` answering a lock with its own
    status again (the 429 `sign_in_locked` the probe used to tell real usernames apart)."""
    with sessions() as session:
        identity_service.create_staff(
            session,
            username="probe-real",
            display_name="r",
            role=Role.agent,
            password=PASSWORD,
            clock=clock,
        )
        session.commit()
    client = TestClient(app, raise_server_exceptions=False, base_url="https://testserver")
    for _ in range(identity_service.MAX_FAILURES):
        client.post("/v1/auth/sessions", json={"username": "probe-real", "password": "wrong1"})
    locked_wrong = client.post(
        "/v1/auth/sessions", json={"username": "probe-real", "password": "wrong2"}
    )
    locked_right = client.post(
        "/v1/auth/sessions", json={"username": "probe-real", "password": PASSWORD}
    )
    missing = client.post(
        "/v1/auth/sessions", json={"username": "probe-nobody", "password": "wrong2"}
    )
    answers = {(r.status_code, r.text) for r in (locked_wrong, locked_right, missing)}
    assert answers == {(401, missing.text)}
    clock.advance(identity_service.LOCKOUT + dt.timedelta(seconds=1))
    opened = client.post("/v1/auth/sessions", json={"username": "probe-real", "password": PASSWORD})
    assert opened.status_code == 200
