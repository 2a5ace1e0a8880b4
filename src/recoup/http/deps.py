"""Request dependencies: one session and one transaction per request, the clock, the settings,
and the path and query parameters every list or by-id route shares."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BeforeValidator
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


def known_query_only(request: Request) -> None:
    """Refuse a query parameter the route does not take (a 422 naming it), rather than ignore it:
    a misspelt `ofset` would otherwise answer the first page as if asked. Every API router is
    included with it (`api.app`); what a route takes is read from its own declaration, the
    parameters of its dependencies included."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    names = _query_names(route)
    unknown = sorted(set(request.query_params) - names)
    if unknown:
        takes = ", ".join(sorted(names)) or "no query parameter"
        raise ValidationFailed(
            f"unknown query parameter {unknown[0][:40]!r}; this route takes {takes}",
            details=[{"field": unknown[0][:40], "problem": "unknown query parameter"}],
        )


_QUERY_NAMES: dict[int, frozenset[str]] = {}


def _query_names(route: APIRoute) -> frozenset[str]:
    names = _QUERY_NAMES.get(id(route))
    if names is None:
        names = _QUERY_NAMES[id(route)] = frozenset(_declared(route.dependant))
    return names


def _declared(dependant: Dependant) -> Iterator[str]:
    """The query parameters a route declares, its dependencies' (and theirs) included."""
    for param in dependant.query_params:
        yield str(param.alias or param.name)
    for sub in dependant.dependencies:
        yield from _declared(sub)


def _iso_date(value: object) -> object:
    """A date given as text must be YYYY-MM-DD: the lax parser would read a number as a Unix
    timestamp (`to=-2.7e-288` answered for 1 January 1970)."""
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError("a date is YYYY-MM-DD")
    return value


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A date in a query or path: ISO 8601's YYYY-MM-DD and nothing else.
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
