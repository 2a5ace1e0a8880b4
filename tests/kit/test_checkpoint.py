"""A simulation's SQLite file checkpoints its WAL less often than SQLite's default (each
checkpoint costs three disk syncs under synchronous=NORMAL); every other engine keeps the
default."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from sqlalchemy import text

from recoup.cli.common import Runtime
from recoup.cli.simulate import CHECKPOINT_PAGES, simulation_runtime
from recoup.config import Settings
from recoup.kit.clock import SettableClock
from recoup.kit.db import checkpoint_every, make_engine

CLOCK = SettableClock(dt.datetime(2026, 12, 7, tzinfo=dt.UTC))
PAGE = 4096


def autocheckpoint(rt: Runtime) -> int:
    # read_only: a plain BEGIN (kit.db), so that two connections can be open at once
    with rt.engine.connect().execution_options(read_only=True) as connection:
        return int(connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())


def wal_pages_after_writing(url: str, path: Path, pages: int | None) -> int:
    """Writes about 3,000 pages in 30 commits; the WAL's size in pages at the end (a checkpoint
    lets the WAL be written again from its start, so it stays near the checkpoint's size)."""
    engine = make_engine(url)
    if pages is not None:
        checkpoint_every(engine, pages)
    try:
        with engine.begin() as connection:
            connection.execute(text("create table blobs (id integer primary key, b blob)"))
        for _ in range(30):
            with engine.begin() as connection:
                connection.execute(
                    text("insert into blobs (b) values (:b)"),
                    [{"b": os.urandom(PAGE)} for _ in range(100)],
                )
        return Path(f"{path}-wal").stat().st_size // PAGE
    finally:
        engine.dispose()


@pytest.mark.pure  # its own SQLite files
class TestCheckpointEvery:
    def test_a_simulation_database_checkpoints_every_checkpoint_pages(self, tmp_path: Path) -> None:
        """Catches `simulation_runtime` (the demo's and `recoup simulate`'s runtime) leaving
        SQLite's 1,000 pages: every connection of its engine says CHECKPOINT_PAGES."""
        settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'sim.db'}")
        rt = simulation_runtime(settings, CLOCK)
        try:
            assert autocheckpoint(rt) == CHECKPOINT_PAGES
            reading = rt.engine.execution_options(read_only=True)
            with reading.connect() as first, reading.connect() as second:
                for connection in (first, second):
                    pragma = connection.exec_driver_sql("PRAGMA wal_autocheckpoint")
                    assert pragma.scalar_one() == CHECKPOINT_PAGES
        finally:
            rt.engine.dispose()

    def test_other_engines_keep_sqlites_default(self, tmp_path: Path) -> None:
        """Catches the demo's setting leaking into every engine (`recoup serve`, the API, the
        daily run): their durability after a power cut must stay SQLite's default."""
        settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'app.db'}")
        rt = Runtime(settings, CLOCK)
        try:
            assert autocheckpoint(rt) == 1000
        finally:
            rt.engine.dispose()

    def test_the_wal_is_checkpointed_at_the_set_size_not_before(self, tmp_path: Path) -> None:
        """Catches the pragma not reaching the connections that write (the WAL would be
        checkpointed at 1,000 pages and stay that size): 3,000 pages written, the default's WAL
        stays near 1,000 pages, one checkpointed every 10,000 holds them all."""
        default = wal_pages_after_writing(f"sqlite:///{tmp_path / 'a.db'}", tmp_path / "a.db", None)
        fewer = wal_pages_after_writing(f"sqlite:///{tmp_path / 'b.db'}", tmp_path / "b.db", 10_000)
        assert default < 1_500
        assert fewer > 3_000

    def test_only_sqlite_and_a_positive_size(self) -> None:
        engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:5432/nowhere")
        with pytest.raises(ValueError, match="SQLite"):
            checkpoint_every(engine, 10_000)
        sqlite = make_engine("sqlite://")
        with pytest.raises(ValueError, match="at least 1"):
            checkpoint_every(sqlite, 0)
