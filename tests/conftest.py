"""Test fixtures: one database per run (SQLite by default, PostgreSQL when RECOUP_TEST_DATABASE_URL
points at one), migrated with the real migrations; each test runs inside a transaction that is rolled
back, so tests never see each other's rows."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from recoup.api.app import create_app
from recoup.audit import service as audit_service
from recoup.bootstrap import init_database
from recoup.config import Settings, get_settings
from recoup.identity import service as identity_service
from recoup.identity.permissions import API_KEY_SCOPES
from recoup.keys import service as keys_service
from recoup.kit import crypto
from recoup.kit.clock import SettableClock
from recoup.kit.db import make_engine

# A fixed development master key, so a test database survives from one run to the next.
MASTER = crypto.LocalMasterKey(
    id="m-tests", key=hashlib.sha256(b"recoup test master key").digest(), development=True
)
crypto.install_keyring(crypto.Keyring.generate(development=True))  # until the database's keys load
AUDIT_SIGNER = audit_service.Signer(Ed25519PrivateKey.generate())
audit_service.install_signer(AUDIT_SIGNER)
WEBHOOK_SECRET = "whsec-test-0123456789"
START = dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai


# The tests' database keyring, once the session's database exists (`engine`).
_KEYRING: list[crypto.Keyring] = []


@pytest.fixture(autouse=True)
def _tests_keyring() -> None:
    """Every test starts with the tests' database keyring: one that installs its own (the
    simulator's database, a command that bootstraps) would otherwise leave it to the next test,
    which would seal its rows under a key the tests' database does not hold (an UnknownKey 500
    in tests/contact/test_dial.py after tests/simulation, seen once the keyring reloaded)."""
    if _KEYRING:
        crypto.install_keyring(_KEYRING[0])


@pytest.fixture(autouse=True)
def _audit_signer() -> None:
    """Every test starts with the tests' signer: a command that bootstraps (recoup report, the
    CLI's tests) installs the key file's, which the ledger tests would otherwise verify against."""
    audit_service.install_signer(AUDIT_SIGNER)


@pytest.fixture(autouse=True)
def _settings_read_afresh() -> Iterator[None]:
    """`get_settings()` keeps the process's settings (what the guard's callers read the house
    policy's path from): a test that sets a `RECOUP_` variable has them read again, and the next
    test does not inherit them."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def database_url(tmp_root: Path) -> str:
    return os.environ.get("RECOUP_TEST_DATABASE_URL") or f"sqlite:///{tmp_root / 'test.db'}"


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = make_engine(database_url(tmp_path_factory.mktemp("db")))
    init_database(engine, clock=SettableClock(START), master=MASTER)
    with Session(engine) as session:  # a fixed keyring: tests need no reloads
        _KEYRING[:] = [keys_service.load_keyring(session, MASTER)]
    crypto.install_keyring(_KEYRING[0])
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture
def sessions(connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(
        bind=connection,
        expire_on_commit=False,
        autoflush=False,
        join_transaction_mode="create_savepoint",
    )


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    session = sessions()
    yield session
    session.close()


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(START)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        database_url="sqlite://",
        encryption_keys=MASTER.to_json(),
        wallet_webhook_secrets=[WEBHOOK_SECRET],
    )


@pytest.fixture
def app(
    engine: Engine, sessions: sessionmaker[Session], clock: SettableClock, settings: Settings
) -> Iterator[FastAPI]:
    app = create_app(settings, engine=engine, clock=clock)
    app.state.sessionmaker = sessions
    yield app
    crypto.install_keyring(crypto.installed_keyring())  # the app installed a reloading source
    audit_service.install_signer(AUDIT_SIGNER)


@pytest.fixture
def integration_key(sessions: sessionmaker[Session], clock: SettableClock) -> str:
    """An API key with every scope an integration can hold (the wallet's backend)."""
    with sessions() as session:
        key, _ = identity_service.create_api_key(
            session, name="tests", scopes=sorted(API_KEY_SCOPES), created_by="tests", clock=clock
        )
        session.commit()
    return key


@pytest.fixture
def client(app: FastAPI, integration_key: str) -> Iterator[TestClient]:
    """The API as the wallet's backend calls it: authenticated with `integration_key`."""
    with TestClient(
        app, raise_server_exceptions=False, base_url="https://testserver"
    ) as test_client:
        test_client.headers["Authorization"] = f"Bearer {integration_key}"
        yield test_client


@pytest.fixture
def anonymous(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(
        app, raise_server_exceptions=False, base_url="https://testserver"
    ) as test_client:
        yield test_client


@pytest.fixture
def process_database(tmp_path: Path) -> Iterator[str]:
    """A database of its own: a new one on the test PostgreSQL server (named after the test
    database, so a run's databases share its prefix), else a SQLite file."""
    with own_database(tmp_path) as url:
        yield url


@contextmanager
def own_database(folder: Path) -> Iterator[str]:
    """`process_database`'s database, for a fixture of another scope."""
    base = os.environ.get("RECOUP_TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{folder / 'rotate.db'}"
        return
    name = f"{make_url(base).database}_proc_{os.getpid()}_{random.randrange(10**6)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
