"""Request dependencies: one session and one transaction per request, the clock, the settings,
and the path and query parameters every list or by-id route shares."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from sqlalchemy.orm import Session

from recoup.config import Settings
from recoup.kit.clock import Clock
from recoup.kit.errors import ValidationFailed


def get_session(request: Request) -> Iterator[Session]:
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[Session, Depends(get_session)]
ClockDep = Annotated[Clock, Depends(get_clock)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

# Row ids are 64-bit: a path id outside that range is a 422, not a database overflow.
RowId = Annotated[int, Path(ge=1, le=2**63 - 1, description="Row id")]
Limit = Annotated[int, Query(ge=1, le=500, description="Page size")]
Offset = Annotated[int, Query(ge=0, le=10**9, description="Results to skip")]


def only_query(*names: str) -> Callable[[Request], None]:
    """Refuse a query parameter the route does not take (a 422 naming it), rather than ignore
    it: a misspelt `ofset` would otherwise answer the first page as if asked."""

    def check(request: Request) -> None:
        unknown = sorted(set(request.query_params) - set(names))
        if unknown:
            raise ValidationFailed(
                f"unknown query parameter {unknown[0][:40]!r}; this route takes {', '.join(names)}",
                details=[{"field": unknown[0][:40], "problem": "unknown query parameter"}],
            )

    return check
