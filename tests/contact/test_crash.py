"""The dispatcher killed with SIGKILL at random moments while it sends a few thousand messages to a
local sink (the spool), then started again: every message is accepted once per idempotency key,
every sent contact has its message, and nothing is left stuck."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text

from tests.processes import recoup_run as run
from tests.strategy.test_kill import POLICY


def days() -> tuple[str, str]:
    """(today, tomorrow) in Shanghai. The portfolio is generated as of today (its payments must not
    lie in the future) and the day is planned for tomorrow, so that at whatever hour the test runs
    every window of the planned day is still ahead and the day's contacts are planned, not deferred."""
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    return today.isoformat(), (today + dt.timedelta(days=1)).isoformat()


WORKER = [sys.executable, "-m", "tests.contact.crash_worker"]
ROOT = Path(__file__).resolve().parents[2]


def query(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


def test_killed_workers_send_every_message_exactly_once(
    tmp_path: Path, process_database: str
) -> None:
    database = process_database
    spool = tmp_path / "spool"
    env = {
        **os.environ,
        "RECOUP_DATABASE_URL": database,
        "RECOUP_ENCRYPTION_KEY_FILE": str(tmp_path / "keys.json"),
        "CRASH_SPOOL": str(spool),
        "PYTHONPATH": str(ROOT),
    }
    for name in ("RECOUP_ENV", "RECOUP_TEST_DATABASE_URL"):
        env.pop(name, None)
    run(env, tmp_path, "init")
    today, tomorrow = days()
    run(env, tmp_path, "generate", "--customers", "16000", "--seed", "5", "--as-of", today)
    run(env, tmp_path, "strategy", "activate", str(POLICY))
    run(env, tmp_path, "run", "daily", "--as-of", tomorrow)
    # The moment the last window of the day opens: everything planned for the day is due.
    [(last,)] = query(
        database,
        "SELECT max(scheduled_at) FROM contact_plans WHERE status = 'planned' AND channel <> 'call'",
    )
    start = dt.datetime.fromisoformat(str(last)).replace(tzinfo=dt.UTC) + dt.timedelta(minutes=1)
    [(due,)] = query(
        database,
        "SELECT count(*) FROM contact_plans WHERE status = 'planned' AND channel <> 'call'",
    )
    assert int(due) > 2000

    rng = random.Random(11)
    kills = 0
    for _ in range(5):
        worker = subprocess.Popen(
            WORKER,
            env={**env, "CRASH_CLOCK_START": start.isoformat()},
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        time.sleep(rng.uniform(0.4, 1.2))  # start-up takes about half a second
        if worker.poll() is None:
            os.kill(worker.pid, signal.SIGKILL)
            kills += 1
        worker.wait(timeout=30)
    assert kills >= 2, "the workers finished before they could be killed"
    # Past the killed workers' leases: the last worker takes over what they held.
    final = subprocess.run(
        WORKER,
        env={**env, "CRASH_CLOCK_START": (start + dt.timedelta(minutes=10)).isoformat()},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert final.returncode == 0, final.stderr

    stuck = query(
        database,
        "SELECT status, count(*) FROM contact_plans "
        "WHERE status IN ('sending', 'queued') GROUP BY status",
    )
    assert stuck == []
    sent = {
        f"recoup-contact-{i}": channel
        for i, channel in query(
            database,
            "SELECT id, channel FROM contact_plans WHERE status IN ('sent', 'delivered') "
            "AND channel IN ('sms', 'push', 'email')",
        )
    }
    files = {p.stem: p.parent.name for p in spool.glob("*/*.json")}
    assert files == sent  # one message per sent contact, none for any other
    for path in spool.glob("*/*.json"):
        assert json.loads(path.read_text(encoding="utf-8"))["idempotency_key"] == path.stem
    twice = query(
        database,
        "SELECT contact_id FROM contact_events WHERE status = 'sent' "
        "GROUP BY contact_id HAVING count(*) > 1",
    )
    assert twice == []
