from __future__ import annotations

import datetime as dt
import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property

import typer
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from recoup.bootstrap import install_keys, load_audit_signer
from recoup.config import Settings
from recoup.kit import logging as kit_logging
from recoup.kit.clock import Clock, ShiftedClock, SystemClock
from recoup.kit.db import make_engine, make_sessionmaker, session_scope
from recoup.kit.errors import RecoupError

console = Console()
err_console = Console(stderr=True)


@dataclass
class Runtime:
    settings: Settings
    clock: Clock

    @cached_property
    def engine(self) -> Engine:
        return make_engine(
            self.settings.database_url,
            echo=self.settings.database_echo,
            pool_size=self.settings.database_pool_size,
            max_overflow=self.settings.database_max_overflow,
        )

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_sessionmaker(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with session_scope(self.sessions) as session:
            yield session

    def install_keys(self) -> None:
        install_keys(self.settings, self.engine)
        if self.settings.audit_signing_key_file.exists():
            load_audit_signer(self.settings)


def configure_logging(minimum: str | None = None, maximum: str | None = None) -> None:
    """Logs at the configured level, made at least as detailed as `minimum` (`serve` logs its
    requests) and no more detailed than `maximum` (the demo's terminal)."""
    try:
        settings = Settings()
    except RecoupError:
        return  # the command itself reports the configuration problem
    level = settings.log_level.upper()
    if minimum and logging.getLevelName(level) > logging.getLevelName(minimum):
        level = minimum
    if maximum and logging.getLevelName(level) < logging.getLevelName(maximum):
        level = maximum
    stream = settings.log_file.open("a", encoding="utf-8") if settings.log_file else None
    kit_logging.configure(level=level, stream=stream)


# A long command's young generation: the collector runs after this many new container objects
# rather than Python's 700 (`fewer_collections`).
BATCH_GEN0 = 10_000


@contextmanager
def fewer_collections() -> Iterator[None]:
    """For a long command that makes and drops millions of objects (the demo, `recoup simulate`):
    what start-up loaded (modules, mappers, the policy) frozen out of the cyclic collector's
    walks (`gc.freeze`), and its young generation collected after `BATCH_GEN0` new objects
    instead of 700. Every cycle is still collected, later; what reference counting frees is
    freed as before. The 60-day demo spent 9.8 s of CPU in the collector (6.0 s in its 35 full
    collections), 4.0 s this way (docs/benchmarks.md, "The demo", 7 December, afternoon)."""
    threshold = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(BATCH_GEN0, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def runtime(*, keys: bool = True) -> Runtime:
    try:
        settings = Settings()
        clock: Clock = (
            SystemClock() if settings.clock_start is None else ShiftedClock(settings.clock_start)
        )
        rt = Runtime(settings, clock)
        if keys:
            rt.install_keys()
    except RecoupError as exc:
        fail(exc.message)
    return rt


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def parse_date(value: str | None, *, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option} {value!r} is not a date; use YYYY-MM-DD") from None
