"""The PostgreSQL connection pool is sized by configuration."""

from __future__ import annotations

import pytest
from sqlalchemy.pool import QueuePool

from recoup.cli.common import Runtime
from recoup.config import Settings
from recoup.kit.clock import SystemClock

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/nowhere"  # never connected to


class TestPoolSize:
    def test_settings_from_the_environment_size_the_engines_pool(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Catches make_engine (or the CLI's runtime) ignoring RECOUP_DATABASE_POOL_SIZE and
        RECOUP_DATABASE_MAX_OVERFLOW: the pool would keep SQLAlchemy's 5 and 10."""
        monkeypatch.setenv("RECOUP_DATABASE_POOL_SIZE", "17")
        monkeypatch.setenv("RECOUP_DATABASE_MAX_OVERFLOW", "3")
        settings = Settings(database_url=PG)
        engine = Runtime(settings, SystemClock()).engine
        try:
            assert isinstance(engine.pool, QueuePool)
            assert (engine.pool.size(), engine.pool._max_overflow) == (17, 3)
        finally:
            engine.dispose()

    def test_a_pool_size_out_of_bounds_is_refused(self) -> None:
        with pytest.raises(ValueError, match="database_pool_size"):
            Settings(database_url=PG, database_pool_size=0)
