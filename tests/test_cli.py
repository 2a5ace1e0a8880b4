from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from recoup.cli.demo import served_database
from recoup.cli.main import app
from recoup.cli.simulate import summary_table
from recoup.config import Settings
from recoup.identity import service as identity_service
from recoup.identity.permissions import Role
from recoup.kit.clock import SystemClock
from recoup.simulation.report import SimulationResult
from tests.processes import wait_until_serving
from tests.test_serve import free_port

runner = CliRunner()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in (
        "RECOUP_DATABASE_URL",
        "RECOUP_ENCRYPTION_KEYS",
        "RECOUP_ENCRYPTION_KEY_FILE",
        "RECOUP_ENV",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RECOUP_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    return tmp_path


class TestInit:
    def test_init_twice_is_safe_and_generates_one_development_key(self, workdir: Path) -> None:
        first = runner.invoke(app, ["init"])
        assert first.exit_code == 0, first.output
        assert "generated a development master key" in first.output
        key = (workdir / "recoup-keys.json").read_text()
        second = runner.invoke(app, ["init"])
        assert second.exit_code == 0, second.output
        assert "generated" not in second.output
        assert (workdir / "recoup-keys.json").read_text() == key
        assert (workdir / "recoup-keys.json").stat().st_mode & 0o077 == 0

    def test_commands_explain_a_missing_keyring(self, workdir: Path) -> None:
        result = runner.invoke(app, ["run", "daily"])
        assert result.exit_code == 1
        assert "recoup init" in result.output

    def test_production_refuses_default_secrets(
        self, workdir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("RECOUP_ENV", "production")
        result = runner.invoke(app, ["init"])
        assert result.exit_code != 0
        assert not (workdir / "recoup-keys.json").exists()


class TestPortfolioCommands:
    def test_generate_run_and_show(self, workdir: Path) -> None:
        assert runner.invoke(app, ["init"]).exit_code == 0
        generated = runner.invoke(
            app, ["generate", "--customers", "60", "--seed", "5", "--as-of", "2026-06-01"]
        )
        assert generated.exit_code == 0, generated.output
        daily = runner.invoke(app, ["run", "daily", "--as-of", "2026-06-01"])
        assert daily.exit_code == 0, daily.output
        assert "Accounts by bucket" in daily.output
        shown = runner.invoke(app, ["accounts", "show", "c0000001-a0", "--locale", "en"])
        assert shown.exit_code == 0, shown.output
        assert "days past due" in shown.output
        earlier = runner.invoke(app, ["run", "daily", "--as-of", "2026-05-01"])
        assert earlier.exit_code == 1
        assert "already computed through 2026-06-01" in earlier.output
        # SQLite keeps plain tables: the upkeep has nothing to do, and says what it would keep.
        upkeep = runner.invoke(app, ["db", "partitions", "--dry-run", "--as-of", "2026-06-01"])
        assert upkeep.exit_code == 0, upkeep.output
        assert "0 would be made, 0 would be dropped, 0 held past 6 years" in upkeep.output
        assert "2026-06-01's daily run kept them already" in upkeep.output

    def test_bad_date_is_a_clear_error(self, workdir: Path) -> None:
        assert runner.invoke(app, ["init"]).exit_code == 0
        result = runner.invoke(app, ["run", "daily", "--as-of", "June 1st"])
        assert result.exit_code == 1
        assert "YYYY-MM-DD" in result.output

    def test_unknown_account_is_a_clear_error(self, workdir: Path) -> None:
        assert runner.invoke(app, ["init"]).exit_code == 0
        result = runner.invoke(app, ["accounts", "show", "nope"])
        assert result.exit_code == 1
        assert "no account" in result.output


class TestAuditCommands:
    def test_verify_passes_then_names_a_tampered_entry(self, workdir: Path) -> None:
        import sqlite3

        assert runner.invoke(app, ["init"]).exit_code == 0
        assert (
            runner.invoke(app, ["generate", "--customers", "20", "--as-of", "2026-06-01"]).exit_code
            == 0
        )
        assert runner.invoke(app, ["run", "daily", "--as-of", "2026-06-01"]).exit_code == 0
        assert runner.invoke(app, ["run", "daily", "--as-of", "2026-06-02"]).exit_code == 0
        assert runner.invoke(app, ["audit", "checkpoint"]).exit_code == 0
        ok = runner.invoke(app, ["audit", "verify"])
        assert ok.exit_code == 0, ok.output
        assert "0 entries after the last signed checkpoint" in ok.output
        exported = runner.invoke(app, ["audit", "checkpoints", "--out", "anchors.json"])
        assert exported.exit_code == 0
        assert "BEGIN PUBLIC KEY" in (workdir / "anchors.json").read_text()
        db = sqlite3.connect(workdir / "cli.db")
        db.execute("DROP TRIGGER audit_events_no_update")
        db.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 1")
        db.commit()
        db.close()
        broken = runner.invoke(app, ["audit", "verify"])
        assert broken.exit_code == 1
        assert "entry 1" in broken.output


class TestTemplates:
    def test_preview_shows_the_approved_text_and_its_sms_length(self, workdir: Path) -> None:
        assert runner.invoke(app, ["init"]).exit_code == 0
        listed = runner.invoke(app, ["templates", "list"])
        assert listed.exit_code == 0
        assert "approved" in listed.output
        shown = runner.invoke(
            app, ["templates", "preview", "early_reminder", "--language", "en", "--tone", "firm"]
        )
        assert shown.exit_code == 0, shown.output
        assert "Reply STOP to opt out." in shown.output
        assert "GSM-7" in shown.output
        missing = runner.invoke(app, ["templates", "preview", "nothing"])
        assert missing.exit_code == 1
        assert "no approved template nothing" in missing.output

    def test_an_emails_preview_shows_the_emails_own_opt_out(self, workdir: Path) -> None:
        """Removal caught: every preview carried the SMS's "Reply STOP" (回复TD退订), so an
        e-mail previewed as asking the reader to reply STOP, where the e-mail sent carries an
        unsubscribe link."""
        assert runner.invoke(app, ["init"]).exit_code == 0
        for language, said in (
            ("en", "Unsubscribe: https://pay.example/u/"),
            ("zh-CN", "退订：https://"),
        ):
            shown = runner.invoke(
                app,
                [
                    "templates",
                    "preview",
                    "early_reminder",
                    "--channel",
                    "email",
                    "--language",
                    language,
                ],
            )
            assert shown.exit_code == 0, shown.output
            assert said in shown.output
            assert "STOP" not in shown.output
            assert "回复TD" not in shown.output


class TestSimulate:
    @pytest.mark.parametrize(("policies", "compared"), [(1, False), (2, True)])
    def test_rows_against_the_first_policy_only_when_there_is_a_second(
        self, policies: int, compared: bool
    ) -> None:
        """Removal caught: the demo (one policy) printed "recovered, against the first: +0.0%"
        and the same for contacts, a comparison with itself that read as a finding."""
        results = [(f"p{i}", SimulationResult(start=dt.date(2026, 6, 1))) for i in range(policies)]
        screen = Console(record=True, width=120)
        screen.print(summary_table(results))
        text = screen.export_text()
        assert "recovered (applied while overdue)" in text
        assert ("recovered, against the first" in text) is compared
        assert ("contacts per account, against the first" in text) is compared

    def test_two_policies_on_a_small_world_and_a_bad_world_file(self, workdir: Path) -> None:
        policy = Path(__file__).resolve().parents[1] / "src/recoup/strategy/policies/cn-wallet.yaml"
        quiet = workdir / "quiet.yaml"
        quiet.write_text(
            policy.read_text(encoding="utf-8").replace(
                "pauses:\n", "pauses:\n  - reason: silence\n    when: true\n", 1
            ),
            encoding="utf-8",
        )
        world = workdir / "world.yaml"
        world.write_text("world: tiny\nportfolio: {accounts: 120}\n", encoding="utf-8")
        ran = runner.invoke(
            app,
            [
                "simulate",
                "--world",
                str(world),
                "--policy",
                str(policy),
                "--policy",
                str(quiet),
                "--days",
                "2",
                "--start",
                "2026-06-01",
            ],
        )
        assert ran.exit_code == 0, ran.output
        assert "Simulated outcomes" in ran.output
        # One column per policy, one row per measure.
        assert any(
            "(cn-wallet.yaml)" in line and "(quiet.yaml)" in line
            for line in ran.output.splitlines()
        )
        [placed] = [line for line in ran.output.splitlines() if "calls placed" in line]
        assert placed.split("│")[-2].strip() == "0"  # the quiet policy placed none
        assert " 0 breaches" in ran.output
        assert len(list((workdir / "recoup-simulations").glob("*.db"))) == 2
        world.write_text("portfolio: {acounts: 5}\n", encoding="utf-8")
        bad = runner.invoke(app, ["simulate", "--world", str(world)])
        assert bad.exit_code == 1
        assert "portfolio.acounts" in bad.output


def test_the_default_install_runs_without_the_extras() -> None:
    """`pip install -e .` (the README's demo command) installs no extra: the CLI and the app must
    import without PostgreSQL's driver or any test tool. Catches a module-level `import psycopg`
    (as `cli/errors.py` once had, which broke `recoup demo` on a fresh machine)."""
    import subprocess
    import sys

    extras = ["psycopg", "pytest", "hypothesis", "schemathesis", "aiosmtpd", "playwright"]
    code = (
        "import sys\n"
        f"for name in {extras!r}: sys.modules[name] = None\n"
        "import recoup.cli.main, recoup.api.app\n"
        "from typer.testing import CliRunner\n"
        "r = CliRunner().invoke(recoup.cli.main.app, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.pure  # its own SQLite files, in a subprocess
class TestDemoLeavesAConsole:
    """`recoup demo` leaves a console to look at: on the file `recoup serve` reads, a staff user
    per role whose printed sign-in works."""

    def run_demo(self, folder: Path, *extra: str, env: dict[str, str] | None = None) -> Any:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("RECOUP_")}
        environment.update(env or {})
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "recoup.cli",
                "demo",
                "--accounts",
                "120",
                "--days",
                "2",
                *extra,
            ],
            env=environment,
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def test_the_demo_signs_every_role_in_on_the_database_serve_reads(self, tmp_path: Path) -> None:
        """Catches the demo's file differing from `recoup serve`'s default (it was
        recoup-demo.db, which `recoup serve` never read) and a printed sign-in that fails."""
        done = self.run_demo(tmp_path)
        assert done.returncode == 0, done.stderr[-2000:]
        out = done.stdout
        assert "recoup serve" in out
        assert "http://127.0.0.1:8000/console" in out
        signs = dict(re.findall(r"sign in as (\S+): (\S+ / \S+)", out))
        assert set(signs) == {str(role) for role in Role}
        assert (tmp_path / "recoup.db").exists()  # the file `recoup serve` reads by default

        assert served_database(Settings(_env_file=None, database_url="sqlite:///recoup.db")) == (
            Path("recoup.db")
        )
        # `recoup serve` in the same folder, with no setting: the demo's portfolio and staff.
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        environment = {k: v for k, v in os.environ.items() if not k.startswith("RECOUP_")}
        server = subprocess.Popen(
            [sys.executable, "-m", "recoup.cli", "serve", "--port", str(port)],
            cwd=tmp_path,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_serving(base, seconds=60)
            cookies: dict[str, dict[str, str]] = {}
            for role, line in signs.items():
                username, password = line.split(" / ")
                signed = httpx.post(
                    f"{base}/v1/auth/sessions",
                    json={"username": username, "password": password},
                    timeout=30,
                )
                assert signed.status_code == 200, (role, signed.text)
                assert signed.json()["role"] == role
                cookie = {"recoup_session": signed.cookies["recoup_session"]}
                home = httpx.get(f"{base}/console", cookies=cookie, timeout=30)
                assert home.status_code == 200, (role, home.status_code)
                cookies[role] = cookie
            # The simulated portfolio is there to look at (as the last signed in, the auditor).
            accounts = httpx.get(
                f"{base}/v1/accounts", params={"limit": 5}, cookies=cookie, timeout=30
            )
            assert accounts.status_code == 200, accounts.text
            assert accounts.json()["total"] >= 100
            # Today has run as a morning would: the agents find work in the console.
            queues = httpx.get(f"{base}/v1/queues", cookies=cookies["supervisor"], timeout=30)
            assert queues.status_code == 200, queues.text
            assert sum(q["open"] for q in queues.json()["queues"]) > 0, queues.json()
            # The demo's summary, `recoup report`'s table, report.html and the dashboard it
            # points to tell the same complaint rate and the same money recovered (removal
            # caught: the summary's own tally of late payments, CN¥ against ¥, 0.70 against 0.7).
            [url] = re.findall(r"the dashboard for the same days: \S+/console(/dashboard\S+)", out)
            dashboard = httpx.get(
                f"{base}/console{url}&lang=en", cookies=cookies["strategist"], timeout=30
            )
            assert dashboard.status_code == 200, dashboard.text
            [summary] = re.findall(r"recovered \(applied while overdue\)\s*│\s*(\S+)", out)
            [table] = re.findall(r"Recovery rate by amount \(CNY\)\s*│\s*\S+\s*│\s*(\S+) /", out)
            [rate] = re.findall(r"Complaints per 1,000 contacts\s*│\s*(\S+)", out)
            html = (tmp_path / "report.html").read_text(encoding="utf-8")
            card = html.split('<span data-l="en">Complaints per 1,000 contacts</span>', 1)[1]
            assert summary == table
            assert summary.startswith("CN¥")
            assert f'<span data-l="en">{summary} / ' in html
            assert f'<span data-l="en">{rate}</span>' in card.split("</div></div>", 1)[0]
            assert re.search(
                rf'data-kpi="complaints_per_1000".*?>{re.escape(rate)}<', dashboard.text, re.S
            )
            assert f">{summary}<" in dashboard.text
        finally:
            server.terminate()
            server.wait(timeout=10)

        again = self.run_demo(tmp_path)  # an earlier demo's file is recreated without asking
        assert again.returncode == 0, again.stderr[-2000:]
        assert signs["agent"] not in again.stdout  # a new password each run

    def test_the_demo_keeps_a_file_it_did_not_make(self, tmp_path: Path) -> None:
        """Catches the demo deleting someone's own recoup.db (now the default file)."""
        (tmp_path / "recoup.db").write_bytes(b"someone's work")
        done = self.run_demo(tmp_path)
        assert done.returncode == 1
        assert "--replace" in done.stderr
        assert (tmp_path / "recoup.db").read_bytes() == b"someone's work"

    def test_the_demo_refuses_production(self, tmp_path: Path) -> None:
        done = self.run_demo(tmp_path, env={"RECOUP_ENV": "production"})
        assert done.returncode == 1
        assert "development" in done.stderr
        assert not (tmp_path / "recoup.db").exists()


class TestStaffCommands:
    def test_the_operator_issues_a_set_password_code_and_only_the_newest_works(
        self, workdir: Path
    ) -> None:
        """Catches `issue_password_code` leaving an earlier code working (`retire_open`)."""
        assert runner.invoke(app, ["init"]).exit_code == 0
        added = runner.invoke(
            app, ["staff", "add", "li.na", "--role", "agent", "--password", "first password 1"]
        )
        assert added.exit_code == 0, added.output
        listed = runner.invoke(app, ["staff", "list"])
        assert "li.na" in listed.output
        codes = []
        for _ in range(2):
            done = runner.invoke(app, ["staff", "code", "li.na"])
            assert done.exit_code == 0, done.output
            codes.append(done.output.strip().splitlines()[-1])
        assert runner.invoke(app, ["staff", "code", "nobody"]).exit_code == 1
        clock = SystemClock()
        with Session(create_engine(f"sqlite:///{workdir / 'cli.db'}")) as session:
            with pytest.raises(identity_service.CodeRefused):
                identity_service.redeem_password_code(
                    session, username="li.na", code=codes[0], password="a new password",
                    clock=clock,
                )  # fmt: skip
            identity_service.redeem_password_code(
                session, username="li.na", code=codes[1], password="a new password", clock=clock
            )
            signed = identity_service.sign_in(
                session, username="li.na", password="a new password", clock=clock
            )
            assert isinstance(signed, identity_service.SignedIn)
