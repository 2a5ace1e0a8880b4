"""A small history built once per module (through the real services, in a transaction rolled back
at the module's end); each test runs in a savepoint of it, rolled back after the test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from recoup.kit.clock import SettableClock
from tests.conftest import START
from tests.risk import portfolio


@pytest.fixture(scope="module")
def built(engine: Engine) -> Iterator[tuple[Connection, dict[int, str]]]:
    with engine.connect() as connection:
        outer = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        kinds = portfolio.build(session, SettableClock(START), accounts=24)
        session.commit()
        session.close()
        yield connection, kinds
        outer.rollback()


@pytest.fixture
def payers(built: tuple[Connection, dict[int, str]]) -> dict[int, str]:
    return built[1]


@pytest.fixture
def history_session(built: tuple[Connection, dict[int, str]]) -> Iterator[Session]:
    connection = built[0]
    savepoint = connection.begin_nested()
    session = sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )()
    yield session
    session.close()
    savepoint.rollback()
