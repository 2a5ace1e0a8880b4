"""The deployment's guard (`compliance.deployment_guard`): the shipped packs under the configured
house file, read once and kept until the file changes; a file it cannot use is an error naming the
file, at `recoup compliance check`, `recoup run daily` and `recoup worker` alike."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recoup.cli.main import app
from recoup.compliance import HouseFileError, deployment_guard, load_guard
from tests.compliance.helpers import NO_SUNDAYS, configure_house, scenario

runner = CliRunner()

BAD = [
    ("rules: [\n  - id: x\n    kind: hours\n", "the house policy is not YAML at line"),
    ("rules:\n  - {id: x, kind: hours, title: t}\n\tdays: [mon]\n", "not YAML"),
    ("disable: [cn.hours.legal]\n", "'cn.hours.legal' is law"),
    ("- a list\n", "must be a mapping"),
    ("rule: []\n", "unknown key(s) rule"),
    (
        "rules:\n  - {id: x, kind: hours, title: t, window: {from: '09:00', to: '17:00'}, "
        "days: [sunday]}\n",
        "'sunday' is not a weekday",
    ),
]


class TestDeploymentGuard:
    def test_without_a_file_it_is_the_packs_alone(self) -> None:
        guard = deployment_guard(None)
        assert guard.house.rules == ()
        assert [p.id for p in guard.packs] == [p.id for p in load_guard().packs]

    def test_the_house_rules_apply_and_the_guard_is_built_once_while_the_file_stays(
        self, tmp_path: Path
    ) -> None:
        """Catches a guard parsed again on every call (the dispatcher, the portal and each part
        of the daily run ask for it): the same guard comes back while the file is unchanged."""
        path = tmp_path / "house.yaml"
        path.write_text(NO_SUNDAYS, encoding="utf-8")
        guard = deployment_guard(path)
        assert [r.id for r in guard.house.rules] == ["acme.no_sundays"]
        assert "acme.no_sundays" in {r.id for r in guard.rules_for("CN", "creditor")}
        assert deployment_guard(path) is guard
        assert deployment_guard(str(path)) is guard

    def test_an_edit_is_read_by_the_next_call(self, tmp_path: Path) -> None:
        """Catches a cache keyed by the path alone: an officer's edit would need a restart."""
        path = tmp_path / "house.yaml"
        path.write_text("rules: []\n", encoding="utf-8")
        assert deployment_guard(path).house.rules == ()
        path.write_text(NO_SUNDAYS, encoding="utf-8")
        later = path.stat().st_mtime_ns + 1_000_000_000
        os.utime(path, ns=(later, later))
        assert [r.id for r in deployment_guard(path).house.rules] == ["acme.no_sundays"]

    @pytest.mark.parametrize(("text", "problem"), BAD)
    def test_a_file_it_cannot_use_is_an_error_naming_the_file(
        self, tmp_path: Path, text: str, problem: str
    ) -> None:
        """Catches a fall back to the packs alone: every bad file is refused, with its path."""
        path = tmp_path / "acme-house.yaml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(HouseFileError) as raised:
            deployment_guard(path)
        assert raised.value.message.startswith(f"{path}: ")
        assert problem in raised.value.message

    def test_a_missing_file_is_an_error_naming_it(self, tmp_path: Path) -> None:
        with pytest.raises(HouseFileError, match=r"gone\.yaml: cannot read the house policy"):
            deployment_guard(tmp_path / "gone.yaml")


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh deployment directory (tests/test_cli.py's), initialised."""
    monkeypatch.chdir(tmp_path)
    for name in ("RECOUP_ENCRYPTION_KEYS", "RECOUP_ENCRYPTION_KEY_FILE", "RECOUP_ENV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RECOUP_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    assert runner.invoke(app, ["init"]).exit_code == 0
    return tmp_path


class TestCommands:
    def test_compliance_check_applies_the_configured_house_file(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """`guard_from` without `--house` reads RECOUP_COMPLIANCE_HOUSE_FILE through
        `deployment_guard`: a Sunday contact the packs allow is refused by the house rule."""
        data = scenario("CN", "2026-06-28T10:00:00+08:00")  # a plain Sunday
        allowed = runner.invoke(app, ["compliance", "check", "-"], input=json.dumps(data))
        assert allowed.exit_code == 0, allowed.output
        configure_house(monkeypatch, tmp_path / "house.yaml", NO_SUNDAYS)
        result = runner.invoke(app, ["compliance", "check", "-"], input=json.dumps(data))
        assert result.exit_code == 3, result.output
        assert [r["rule"] for r in json.loads(result.stdout)["reasons"]] == ["acme.no_sundays"]

    @pytest.mark.parametrize(
        "command",
        [
            ["compliance", "check", "-"],
            ["run", "daily", "--as-of", "2026-06-28"],
            ["worker", "--until-idle"],
        ],
    )
    @pytest.mark.parametrize(("text", "problem"), [BAD[0], BAD[2]])
    def test_a_bad_house_file_stops_the_command_with_its_name(
        self,
        workdir: Path,
        monkeypatch: pytest.MonkeyPatch,
        command: list[str],
        text: str,
        problem: str,
    ) -> None:
        """Catches the daily run or the worker starting on the packs alone, or dying with a
        traceback instead of the file's name and the problem."""
        path = configure_house(monkeypatch, workdir / "acme-house.yaml", text)
        data = json.dumps(scenario("CN", "2026-06-28T10:00:00+08:00"))
        result = runner.invoke(app, command, input=data)
        assert result.exit_code == 1, result.output
        assert "acme-house.yaml" in result.output
        assert problem in " ".join(result.output.split()), result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert str(path.name) in result.output


def test_an_http_answer_does_not_show_the_servers_path() -> None:
    """The portal and the API answer a bad house file with a 500 that names no server path
    (the CLI and the log have the whole message)."""
    error = HouseFileError("/etc/recoup/house.yaml: house policy: rules[0] (x): title is required")
    assert error.status_code == 500
    body = error.body()
    assert body.error == "house_policy_invalid"
    assert "/etc/recoup" not in body.message
    assert "/etc/recoup/house.yaml" in error.message
