"""Every command that needs a database, on one that is missing or was never initialised: one line
saying so and what to do, a non-zero exit, never SQLAlchemy's traceback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from recoup.cli.main import app

runner = CliRunner()
POLICY = str(Path(__file__).resolve().parents[1] / "src/recoup/strategy/policies/cn-wallet.yaml")
# Every command that reads or writes the configured database, with arguments that pass its own
# checks (`init`, `serve`, `demo` and `simulate` make or bring their own; `compliance`,
# `strategy validate` need none; `scheduler --once` reads it only when the day is due).
COMMANDS = [
    ["worker", "--until-idle"],
    ["report"],
    ["generate", "--customers", "5"],
    ["run", "daily"],
    ["accounts", "show", "A-1"],
    ["staff", "add", "bob", "--role", "agent", "--password", "correct-horse-battery"],
    ["apikeys", "create", "k", "--scope", "preferences:write"],
    ["apikeys", "list"],
    ["apikeys", "revoke", "1"],
    ["audit", "verify"],
    ["audit", "checkpoint"],
    ["audit", "checkpoints"],
    ["audit", "contacts"],
    ["keys", "status"],
    ["keys", "rotate"],
    ["keys", "rewrap", "new-master.json"],
    ["privacy", "export", "C-1"],
    ["privacy", "erase", "C-1", "--reason", "asked"],
    ["privacy", "retention"],
    ["strategy", "activate", POLICY],
    ["strategy", "simulate", POLICY],
    ["strategy", "diff", POLICY, POLICY],
    ["templates", "list"],
    ["templates", "preview", "reminder"],
    ["contact", "explain", "1"],
    ["contact", "failed"],
    ["contact", "retry", "1"],
    ["models", "train", "--from-history", "--as-of", "2026-06-30"],
    ["models", "list"],
    ["models", "activate", "1"],
    ["models", "drift"],
    ["db", "partitions", "--dry-run"],
]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Keys made once by `recoup init` on another database."""
    folder = tmp_path_factory.mktemp("keys")
    env = {
        "RECOUP_ENCRYPTION_KEY_FILE": str(folder / "recoup-keys.json"),
        "RECOUP_AUDIT_SIGNING_KEY_FILE": str(folder / "audit.pem"),
        "RECOUP_ENCRYPTION_KEYS": None,
        "RECOUP_ENV": None,
    }
    made = runner.invoke(
        app, ["init"], env={**env, "RECOUP_DATABASE_URL": f"sqlite:///{folder / 'other.db'}"}
    )
    assert made.exit_code == 0, made.output
    return {k: v for k, v in env.items() if v is not None}


@pytest.fixture
def keyed(tmp_path: Path, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("RECOUP_ENCRYPTION_KEYS", "RECOUP_ENV"):
        monkeypatch.delenv(name, raising=False)
    for name, value in keys.items():
        monkeypatch.setenv(name, value)
    return tmp_path


@pytest.fixture(params=["never initialised", "missing"])
def broken_database(
    request: pytest.FixtureRequest, keyed: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, str]]:
    base = os.environ.get("RECOUP_TEST_DATABASE_URL")
    if base is None:
        # SQLite: a file that is not there is made empty by the driver (never initialised); one in
        # a folder that is not there cannot be made (missing).
        if request.param == "missing":
            monkeypatch.setenv("RECOUP_DATABASE_URL", f"sqlite:///{keyed / 'gone' / 'x.db'}")
            yield "sqlite", "cannot open the database"
        else:
            monkeypatch.setenv("RECOUP_DATABASE_URL", f"sqlite:///{keyed / 'absent.db'}")
            yield "sqlite", "recoup init"
        return
    name = f"cli_{request.param.split()[0]}_{os.getpid()}"
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    monkeypatch.setenv("RECOUP_DATABASE_URL", url)
    if request.param == "missing":
        yield "postgresql", "cannot open the database"
        return
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield "postgresql", "recoup init"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_command_on_a_missing_or_empty_database_says_so_in_one_line(
    command: list[str], broken_database: tuple[str, str]
) -> None:
    """Catches removing the command group's handler (`cls=Group` in cli/main.py), or a command
    that swallows the error into a message of its own (the SQL and its background link)."""
    _, expected = broken_database
    result = runner.invoke(app, command)
    assert result.exit_code == 1, result.output
    # (the worker's progress table may stand before it on the same line)
    errors = [
        line[line.index("error:") :] for line in result.output.splitlines() if "error:" in line
    ]
    assert len(errors) == 1, result.output
    assert expected in errors[0]
    assert "RECOUP_DATABASE_URL" in errors[0] or "recoup init" in errors[0]
    assert "Traceback" not in result.output
    assert "[SQL:" not in result.output
    assert "sqlalche.me" not in result.output
