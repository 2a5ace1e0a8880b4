"""The one way an endpoint says who may call it: `Depends(require(Permission.x))`.

Credentials, in order: `Authorization: Bearer rk_...` (an API key) or the console's session cookie.
No credentials or bad ones: 401. Credentials without the permission: 403. The dependency carries its
permission (`.permission`) so the authorization-matrix test can read every route's requirement.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from recoup.http.deps import ClockDep, SessionDep
from recoup.identity import service as identity_service
from recoup.identity.permissions import Permission
from recoup.identity.service import Principal
from recoup.kit.errors import Forbidden, NotAuthenticated

SESSION_COOKIE = "recoup_session"


class Require:
    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    def __call__(self, request: Request, session: SessionDep, clock: ClockDep) -> Principal:
        principal = authenticate(request, session, clock)
        if not principal.can(self.permission):
            raise Forbidden(f"{principal.actor} lacks the {self.permission} permission")
        request.state.principal = principal
        return principal


def authenticate(request: Request, session: SessionDep, clock: ClockDep) -> Principal:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials:
        return identity_service.authenticate_api_key(session, credentials.strip(), clock=clock)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        user = identity_service.authenticate_session(session, token, clock=clock)
        return identity_service.staff_principal(user)
    raise NotAuthenticated("send an API key (Authorization: Bearer rk_...) or sign in")


def require(permission: Permission) -> Any:
    return Depends(Require(permission))


def requirement_of(dependency: Callable[..., Any]) -> Permission | None:
    return dependency.permission if isinstance(dependency, Require) else None


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]
