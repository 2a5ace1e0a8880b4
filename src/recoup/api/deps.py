"""Request dependencies: one session and one transaction per request, the clock, the settings."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session

from recoup.config import Settings
from recoup.kit.clock import Clock
from recoup.kit.errors import NotAuthenticated


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


def require_token(
    settings: SettingsDep,
    authorization: Annotated[str | None, Header(description="Bearer token")] = None,
) -> None:
    """Until staff identity and API keys land (issue 3): a configured bearer token, when any is set."""
    tokens = [t.get_secret_value() for t in settings.api_tokens]
    if not tokens:
        return
    scheme, _, offered = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not any(hmac.compare_digest(offered, t) for t in tokens):
        raise NotAuthenticated("send Authorization: Bearer <token>")


Authenticated = Depends(require_token)
