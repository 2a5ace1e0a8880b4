"""The API under load: the wallet's payment webhook and the debtor's portal page, driven by wrk from a
second process on loopback, on SQLite and on PostgreSQL.

    .venv/bin/python -m benchmarks.bench_api_load \
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench_api

For each database: `recoup init`, `recoup generate --customers N` (a few thousand customers with
their accounts and bills), then `recoup serve` (uvicorn) in a subprocess. Each scenario runs wrk
(Debian's `wrk`, `apt-get install -y wrk`) for a bounded time with a Lua script generated into a
temporary directory:

- `webhook`: `POST /v1/webhooks/wallet/payments`, each request a new signed `payment.succeeded`
  event (its own event id and payment id, 1 minor unit on an open account), so none is a replay.
  The script holds more events than a run sends (a thread that ran out would send replays, 409s
  counted as errors, and says so). Every request settles the payment and re-decides the account.
- `portal`: `GET /p/<token>`, a genuine pay link per customer (the served link key), round robin:
  the page reads the customer's accounts, bills and offers and writes a `portal.opened` audit entry.

Printed per database and scenario: requests, requests a second, p50 and p99 latency, and the errors
(connect, read, write, timeout, HTTP status >= 400). Any error is a bug to fix.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, make_url, text

from benchmarks.yardstick import yardstick
from recoup.arrangements.links import pay_link
from recoup.kit.signing import sign

ROOT = Path(__file__).resolve().parents[1]
RECOUP = [sys.executable, "-m", "recoup.cli"]
WEBHOOK_SECRET = "whsec-load-0123456789"
LINK_KEY = "load-link-key-0123456789abcdef"
WEBHOOK = "/v1/webhooks/wallet/payments"

LUA = r"""
local items = {
%(items)s
}
local nthreads = %(threads)d
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

function init(args)
  i = tid
end

function request()
  if i >= #items then
    if %(once)s then
      io.write("ran_out\n")  -- webhook events sent again are replays: 409s, counted as errors
    end
    i = i %% #items
  end
  local item = items[i + 1]
  i = i + nthreads
  return item
end

function done(summary, latency, requests)
  local out = io.open("%(result)s", "w")
  out:write(string.format(
    '{"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, "max_us": %%d, ' ..
    '"connect": %%d, "read": %%d, "write": %%d, "status": %%d, "timeout": %%d}',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout))
  out:close()
end
"""


def lua_string(value: str) -> str:
    """A Lua string literal, byte for byte (a long bracket would turn CR LF into LF)."""
    return (
        '"'
        + "".join(
            chr(b) if 32 <= b < 127 and b not in (34, 92) else f"\\{b:03d}" for b in value.encode()
        )
        + '"'
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run(
        [*RECOUP, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=1800
    )
    if done.returncode != 0:
        raise SystemExit(f"recoup {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def prepare(url: str, workdir: Path, *, customers: int, port: int) -> dict[str, str]:
    env = {
        **os.environ,
        "RECOUP_DATABASE_URL": url,
        "RECOUP_ENCRYPTION_KEY_FILE": str(workdir / "keys.json"),
        "RECOUP_AUDIT_SIGNING_KEY_FILE": str(workdir / "audit.pem"),
        "RECOUP_WALLET_WEBHOOK_SECRETS": json.dumps([WEBHOOK_SECRET]),
        "RECOUP_LINK_KEYS": json.dumps([LINK_KEY]),
        "RECOUP_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "RECOUP_SPOOL_DIR": str(workdir / "spool"),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    }
    for name in ("RECOUP_ENV", "RECOUP_TEST_DATABASE_URL", "RECOUP_CHANNELS_FILE"):
        env.pop(name, None)
    today = dt.datetime.now(dt.UTC).date()
    run(env, workdir, "init")
    run(env, workdir, "generate", "--customers", str(customers), "--seed", "7",
        "--as-of", today.isoformat())  # fmt: skip
    return env


def fresh_postgres(url: str) -> None:
    name = make_url(url).database
    admin = create_engine(
        make_url(url).set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def targets(url: str) -> tuple[list[tuple[str, str]], list[int]]:
    """Open accounts (reference, currency) and the customers who hold them."""
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT external_ref, currency, customer_id FROM accounts WHERE status = 'open'")
        ).all()
    engine.dispose()
    return [(r[0], r[1]) for r in rows], sorted({int(r[2]) for r in rows})


def webhook_items(accounts: list[tuple[str, str]], count: int, tag: str) -> list[str]:
    now = dt.datetime.now(dt.UTC)
    stamp = int(now.timestamp())
    rng = random.Random(11)
    items = []
    for i in range(count):
        ref, currency = rng.choice(accounts)
        body = json.dumps(
            {
                "event_id": f"load-{tag}-{i}",
                "type": "payment.succeeded",
                "payment": {
                    "external_id": f"load-{tag}-{i}",
                    "account_ref": ref,
                    "amount_minor": 1,
                    "currency": currency,
                    "received_at": now.isoformat(),
                },
            },
            separators=(",", ":"),
        )
        signature = sign(WEBHOOK_SECRET.encode(), stamp, body.encode())
        request = (
            f"POST {WEBHOOK} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nX-Recoup-Timestamp: {stamp}\r\n"
            f"X-Recoup-Signature: {signature}\r\nContent-Length: {len(body.encode())}\r\n\r\n"
            f"{body}"
        )
        items.append(request)
    return items


def portal_items(base: str, customers: list[int]) -> list[str]:
    now = dt.datetime.now(dt.UTC)
    items = []
    for customer in customers:
        path = pay_link(
            base, LINK_KEY.encode(), customer_id=customer, contact_id=None, now=now
        ).removeprefix(base)
        items.append(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    return items


def wrk(
    base: str,
    items: list[str],
    *,
    once: bool,
    seconds: int,
    connections: int,
    threads: int,
    tmp: Path,
) -> dict[str, Any]:
    result = tmp / "result.json"
    result.unlink(missing_ok=True)
    script = tmp / "load.lua"
    script.write_text(
        LUA
        % {
            "items": ",\n".join(lua_string(item) for item in items),
            "threads": threads,
            "once": "true" if once else "false",
            "result": str(result),
        },
        encoding="utf-8",
    )
    done = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            base,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 120,
    )
    if done.returncode != 0:
        raise SystemExit(f"wrk failed:\n{done.stdout}\n{done.stderr}")
    figures: dict[str, Any] = json.loads(result.read_text())
    figures["ran_out"] = "ran_out" in done.stdout
    return figures


def serve(env: dict[str, str], cwd: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [*RECOUP, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=open(cwd / "serve.log", "wb"),  # noqa: SIM115 - closed with the process
    )
    deadline = time.monotonic() + 180
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the server did not start:\n{(cwd / 'serve.log').read_text()}")
        time.sleep(0.3)


def server_errors(cwd: Path) -> list[str]:
    """Lines of the server's log that say a request failed (500s, tracebacks)."""
    lines = (cwd / "serve.log").read_text(encoding="utf-8", errors="replace").splitlines()
    return [
        line
        for line in lines
        if '"status": 5' in line or "Traceback" in line or '"level": "error"' in line
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--postgres",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/recoup_bench_api",
        help="a database of its own, dropped and created (empty: SQLite only)",
    )
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--seconds", type=int, default=15, help="each scenario's run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk's threads")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--events", type=int, default=20_000, help="signed events generated")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    databases: list[tuple[str, str]] = []
    rows = []
    with tempfile.TemporaryDirectory(prefix="recoup-load-") as tmp:
        root = Path(tmp)
        if not args.no_sqlite:
            databases.append(("SQLite", f"sqlite:///{root / 'SQLite' / 'load.db'}"))
        if args.postgres:
            databases.append(("PostgreSQL", args.postgres))
        for label, url in databases:
            workdir = root / label
            workdir.mkdir(exist_ok=True)
            if url.startswith("postgresql"):
                fresh_postgres(url)
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            began = time.perf_counter()
            env = prepare(url, workdir, customers=args.customers, port=port)
            accounts, customers = targets(url)
            print(
                f"{label}: {len(accounts):,} open accounts, {len(customers):,} customers "
                f"prepared in {time.perf_counter() - began:.0f} s",
                flush=True,
            )
            server = serve(env, workdir, port, args.workers)
            try:
                scenarios = [
                    ("webhook", webhook_items(accounts, args.events, label), True),
                    ("portal", portal_items(base, customers), False),
                ]
                for name, items, once in scenarios:
                    print(f"  before: {yardstick()}", flush=True)
                    f = wrk(
                        base,
                        items,
                        once=once,
                        seconds=args.seconds,
                        connections=args.connections,
                        threads=args.threads,
                        tmp=root,
                    )
                    seconds = f["duration_us"] / 1e6
                    errors = sum(f[k] for k in ("connect", "read", "write", "status", "timeout"))
                    rows.append(
                        (
                            label,
                            name,
                            f["requests"],
                            f["requests"] / seconds,
                            f["p50_us"] / 1000,
                            f["p99_us"] / 1000,
                            errors,
                            f,
                        )
                    )
                    if errors or not f["requests"]:
                        log = (workdir / "serve.log").read_text(errors="replace").splitlines()
                        for line in log[-5:]:
                            print(f"  server: {line[:300]}")
                    if f["ran_out"]:
                        print("  (a wrk thread ran out of events: raise --events)")
                    print(
                        f"  {name}: {f['requests']:,} requests in {seconds:.1f} s = "
                        f"{f['requests'] / seconds:,.0f}/s, p50 {f['p50_us'] / 1000:.1f} ms, "
                        f"p99 {f['p99_us'] / 1000:.1f} ms, errors {errors} "
                        f"(status {f['status']}, timeout {f['timeout']}, "
                        f"connect {f['connect']}, read {f['read']}, write {f['write']})",
                        flush=True,
                    )
            finally:
                server.terminate()
                server.wait(timeout=30)
            kept = Path(tempfile.gettempdir()) / f"recoup-load-{label}.log"
            shutil.copy(workdir / "serve.log", kept)
            failures = server_errors(workdir)
            for line in failures[:3]:
                print(f"  server: {line[:300]}")
            print(f"  server log: {kept} ({len(failures)} lines of errors)")
    print()
    print("| database | scenario | requests | requests a second | p50 ms | p99 ms | errors |")
    print("|---|---|---|---|---|---|---|")
    for label, name, n, rate, p50, p99, errors, _ in rows:
        print(f"| {label} | {name} | {n:,} | {rate:,.0f} | {p50:.1f} | {p99:.1f} | {errors} |")


if __name__ == "__main__":
    main()
