"""Crash chaos for `recoup worker`: a harness that stops real worker processes with SIGKILL at named
points, proves each kill landed there, restarts workers until the outbox is drained, and counts
what the sinks received per idempotency key.

- `prepare`: a database of its own with a generated portfolio, the China policy active and the
  next day planned; the workers' clock (`RECOUP_CLOCK_START`) starts when the planned windows of
  the day's first eleven hours are all open, so those contacts are due (none expired) while the
  workers run. They are the contacts the figures speak of (`World.due`).
- `kill_at`: a worker with `RECOUP_KILL_POINT=<point>@<n>` (`recoup.worker.killpoints`) parks at the
  point and writes a marker; the harness waits for the marker, then sends SIGKILL. A worker that
  finishes without reaching the point is reported as such (`Kill.reached` False), never counted.
- each worker's clock starts after the previous worker's leases ran out (`RECOUP_DISPATCH_LEASE_
  SECONDS`), so the next one takes over what a killed one held;
- `drain`: workers without kill points, until one finds nothing to do;
- `race`: several workers at once (PostgreSQL), with the time from the first claim to the last
  record;
- `tally`: per due contact, its final status and the sink's deliveries of its key (the spool keeps
  every delivery: `<key>.json`, then `<key>~2.json`...): sent, duplicates (deliveries beyond the
  first), lost (sent without a delivery, a delivery of a contact not sent, or stuck `sending`,
  `queued`, `unknown`), and what else became of them (deferred, blocked, cancelled, expired).

    python -m benchmarks.bench_chaos    (the figures in docs/benchmarks.md)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text

RECOUP = [sys.executable, "-m", "recoup.cli"]
ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "src" / "recoup" / "strategy" / "policies" / "cn-wallet.yaml"
MESSAGES = ("sms", "push", "email")  # channels that reach a sink (in-app and calls are built in)
LEASE_SECONDS = 10
STUCK = ("sending", "queued", "unknown", "planned")  # not finished: lost unless they finish


def query(url: str, sql: str, **params: object) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def _instant(value: object) -> dt.datetime:
    at = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


@dataclass
class World:
    database: str
    workdir: Path
    env: dict[str, str]
    start: dt.datetime  # the workers' clock: every due contact's window is open
    due: dict[int, str] = field(default_factory=dict)  # contact -> channel, message channels
    offset: dt.timedelta = dt.timedelta()  # where the next worker's clock starts, from `start`

    @property
    def spool(self) -> Path:
        return self.workdir / "spool"


def recoup(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run(
        [*RECOUP, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def prepare(database: str, workdir: Path, *, customers: int, seed: int = 5) -> World:
    env = {
        **os.environ,
        "RECOUP_DATABASE_URL": database,
        "RECOUP_ENCRYPTION_KEY_FILE": str(workdir / "keys.json"),
        "RECOUP_AUDIT_SIGNING_KEY_FILE": str(workdir / "audit.pem"),
        "RECOUP_SPOOL_DIR": str(workdir / "spool"),
        "RECOUP_DISPATCH_LEASE_SECONDS": str(LEASE_SECONDS),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    }
    for name in ("RECOUP_ENV", "RECOUP_TEST_DATABASE_URL", "RECOUP_CHANNELS_FILE"):
        env.pop(name, None)
    for name in [n for n in env if n.startswith("RECOUP_KILL_POINT")]:
        env.pop(name)
    # Generated as of today (payments must not lie ahead), planned for tomorrow: at whatever hour
    # this runs, the planned day's windows are all ahead of the generated data.
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    recoup(env, workdir, "init")
    recoup(env, workdir, "generate", "--customers", str(customers), "--seed", str(seed),
           "--as-of", today.isoformat())  # fmt: skip
    recoup(env, workdir, "strategy", "activate", str(POLICY))
    recoup(env, workdir, "run", "daily", "--as-of", (today + dt.timedelta(days=1)).isoformat())
    planned = [
        (int(i), str(channel), _instant(at))
        for i, channel, at in query(
            database,
            "SELECT id, channel, scheduled_at FROM contact_plans WHERE status = 'planned'",
        )
    ]
    first = min(at for _, _, at in planned)
    # The last window that opens within eleven hours of the first: every contact planned up to it
    # is due at once, and none is past the dispatcher's twelve hours of lateness.
    last = max(at for _, _, at in planned if at <= first + dt.timedelta(hours=11))
    start = last + dt.timedelta(minutes=1)
    due = {i: channel for i, channel, at in planned if at <= start and channel in MESSAGES}
    return World(database, workdir, env, start, due)


@dataclass
class Kill:
    point: str
    reached: bool
    detail: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def _worker(
    world: World, name: str, *, batch: int, point: str | None = None
) -> subprocess.Popen[str]:
    env = {
        **world.env,
        "RECOUP_CLOCK_START": (world.start + world.offset).isoformat(),
        "RECOUP_DISPATCH_BATCH": str(batch),
    }
    if point is not None:
        env["RECOUP_KILL_POINT"] = point
        env["RECOUP_KILL_POINT_FILE"] = str(world.workdir / f"{name}.marker")
    return subprocess.Popen(
        [*RECOUP, "worker", "--until-idle", "--name", name, "--idle-seconds", "0.2"],
        env=env,
        cwd=world.workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _after(world: World, began: float) -> None:
    """The next worker's clock starts once this one's leases have run out."""
    world.offset += dt.timedelta(seconds=time.monotonic() - began + LEASE_SECONDS + 1)


def kill_at(world: World, point: str, *, name: str, batch: int, timeout: float = 300) -> Kill:
    """Start a worker that parks at `point`, wait until it is there, and SIGKILL it."""
    marker = world.workdir / f"{name}.marker"
    began = time.monotonic()
    worker = _worker(world, name, batch=batch, point=point)
    try:
        while not marker.exists():
            if worker.poll() is not None:  # finished (or failed) before reaching the point
                _, err = worker.communicate()
                assert worker.returncode == 0, err
                return Kill(point, False, seconds=time.monotonic() - began)
            assert time.monotonic() - began < timeout, f"{name} never reached {point}"
            time.sleep(0.05)
        detail = json.loads(marker.read_text())
        assert detail["pid"] == worker.pid
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        assert worker.returncode == -signal.SIGKILL
        return Kill(point, True, detail, time.monotonic() - began)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        _after(world, began)


def drain(world: World, *, name: str, batch: int) -> float:
    """One worker without kill points, until nothing is due; its seconds."""
    began = time.monotonic()
    worker = _worker(world, name, batch=batch)
    _, err = worker.communicate(timeout=900)
    assert worker.returncode == 0, err
    _after(world, began)
    return time.monotonic() - began


def race(world: World, workers: int, *, batch: int) -> float:
    """`workers` workers at once until each finds nothing to do: seconds from the first claim to
    the last record, as the contacts' events say (process start-up left out)."""
    began = time.monotonic()
    running = [_worker(world, f"race-{workers}-{i}", batch=batch) for i in range(workers)]
    for w in running:
        _, err = w.communicate(timeout=900)
        assert w.returncode == 0, err
    _after(world, began)
    [(first, last)] = query(
        world.database,
        "SELECT min(at) FILTER (WHERE status = 'sending'), "
        "max(at) FILTER (WHERE status IN ('sent', 'delivered')) FROM contact_events",
    )
    return (_instant(last) - _instant(first)).total_seconds()


@dataclass
class Figures:
    planned: int  # due contacts on message channels
    sent: int
    duplicates: int  # deliveries of a key beyond its first
    lost: int  # sent and not delivered, delivered and not sent, or left unfinished
    unknown: int  # contacts that were `unknown` at some point (a crash after the hand-over)
    reconciled: int  # of those, settled by asking the sink (`lookup`), at least once
    other: dict[str, int]  # what else the due contacts became: deferred, blocked, cancelled...
    stuck: dict[str, int]
    senders: dict[str, int]  # sent contacts per worker that recorded them

    def as_row(self) -> dict[str, object]:
        return {
            "planned": self.planned,
            "sent": self.sent,
            "duplicates": self.duplicates,
            "lost": self.lost,
            "unknown": self.unknown,
            "reconciled": self.reconciled,
            **{f"other_{k}": v for k, v in sorted(self.other.items())},
        }


def deliveries(spool: Path) -> Counter[str]:
    """Deliveries per idempotency key, every channel: `<key>.json` and its `~n` copies."""
    return Counter(p.stem.split("~")[0] for p in spool.glob("*/*.json"))


def tally(world: World) -> Figures:
    rows = query(world.database, "SELECT id, status, worker FROM contact_plans")
    status = {int(i): str(s) for i, s, _ in rows}
    delivered = deliveries(world.spool)
    sent_keys = {f"recoup-contact-{i}" for i in world.due if status.get(i) in ("sent", "delivered")}
    duplicates = sum(n - 1 for n in delivered.values() if n > 1)
    unsent_delivered = sum(1 for key in delivered if key not in sent_keys)
    undelivered = sum(1 for key in sent_keys if key not in delivered)
    due_status = Counter(status.get(i, "missing") for i in world.due)
    stuck = {s: n for s, n in due_status.items() if s in STUCK or s == "missing"}
    unknown_ids = {
        int(i)
        for (i,) in query(
            world.database,
            "SELECT DISTINCT contact_id FROM contact_events WHERE status = 'unknown'",
        )
    }
    reconciled = len(
        {
            int(i)
            for i, detail in query(
                world.database,
                "SELECT contact_id, detail FROM contact_events WHERE status IN ('sent', 'queued')",
            )
            if "reconciled" in (detail if isinstance(detail, dict) else json.loads(detail))
        }
        & set(world.due)
    )
    senders = Counter(
        str(w) for i, s, w in rows if int(i) in world.due and s in ("sent", "delivered")
    )
    return Figures(
        planned=len(world.due),
        sent=len(sent_keys),
        duplicates=duplicates,
        lost=undelivered + unsent_delivered + sum(stuck.values()),
        unknown=len(unknown_ids & set(world.due)),
        reconciled=reconciled,
        other={
            s: n for s, n in due_status.items() if s not in ("sent", "delivered") and s not in stuck
        },
        stuck=stuck,
        senders=dict(senders),
    )
