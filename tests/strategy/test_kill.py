"""`recoup run daily` killed with SIGKILL while its transaction is open, then run again: the second
run completes, with one decision per account and no duplicate contact plans; a third run of the day
does nothing (the day's claim in `daily_runs` rolled back with the killed run, and stands after the
finished one)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from tests.processes import recoup_run as run

RECOUP = [sys.executable, "-m", "recoup.cli"]
POLICY = (
    Path(__file__).resolve().parents[2]
    / "src"
    / "recoup"
    / "strategy"
    / "policies"
    / "cn-wallet.yaml"
)


def writing(url: str) -> bool:
    """Whether some connection holds an open write transaction on the database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        probe = sqlite3.connect(str(parsed.database), timeout=0)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.rollback()
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            probe.close()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return bool(
                conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
                    )
                ).scalar_one()
            )
    finally:
        engine.dispose()


def count(url: str, table: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


def test_a_killed_daily_run_completes_when_started_again(
    tmp_path: Path, process_database: str
) -> None:
    database = process_database
    env = {
        **os.environ,
        "RECOUP_DATABASE_URL": database,
        "RECOUP_ENCRYPTION_KEY_FILE": str(tmp_path / "keys.json"),
    }
    env.pop("RECOUP_ENV", None)
    env.pop("RECOUP_TEST_DATABASE_URL", None)
    run(env, tmp_path, "init")
    run(env, tmp_path, "generate", "--customers", "3000", "--seed", "9")
    run(env, tmp_path, "strategy", "activate", str(POLICY))
    day = ["run", "daily", "--as-of", "2026-12-01"]

    process = subprocess.Popen(
        [*RECOUP, *day], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while process.poll() is None and not writing(database):
        assert time.monotonic() < deadline
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL, "the run finished before it could be killed"
    assert count(database, "strategy_decisions") == 0  # nothing of the killed run remains

    finished = run(env, tmp_path, *day)
    assert "accounts decided" in finished
    decisions = count(database, "strategy_decisions")
    assert decisions > 200  # the accounts in a stage (of some 3,600)
    again = run(env, tmp_path, *day)
    assert "2026-12-01 has run already" in " ".join(again.split())
    assert count(database, "strategy_decisions") == decisions
    engine = create_engine(database)
    with engine.connect() as conn:
        duplicates = conn.execute(
            text(
                "SELECT count(*) FROM (SELECT account_id, as_of_date, treatment FROM contact_plans "
                "GROUP BY account_id, as_of_date, treatment HAVING count(*) > 1) d"
            )
        ).scalar_one()
    engine.dispose()
    assert duplicates == 0
