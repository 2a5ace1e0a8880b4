"""The one way an endpoint says who may call it: `require(Permission.x)`.

Credentials, in order: `Authorization: Bearer rk_...` (an API key) or the console's session cookie.
No credentials or bad ones: 401. Credentials without the permission: 403. The dependency carries its
permission (`.permission`) so the authorization-matrix test can read every route's requirement, and
declares it in the OpenAPI: each operation's `security` names the credentials that can hold the
permission (`apiKey` only for a permission an API key may be granted, `staffSession` always) with
the permission as the requirement's role, as OpenAPI 3.1 allows for schemes other than OAuth2.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from recoup.http.deps import ClockDep, SessionDep
from recoup.identity import service as identity_service
from recoup.identity.permissions import API_KEY_SCOPES, Permission
from recoup.identity.service import Principal
from recoup.kit.errors import Forbidden, NotAuthenticated

SESSION_COOKIE = "recoup_session"

# The two kinds of credentials, as the OpenAPI describes them; neither refuses by itself (a missing
# credential is our own 401 with its error body).
API_KEY = HTTPBearer(
    scheme_name="apiKey",
    description="An API key (`rk_...`) with the scopes the operation needs",
    auto_error=False,
)
STAFF_SESSION = APIKeyCookie(
    name=SESSION_COOKIE,
    scheme_name="staffSession",
    description="The console's session cookie, set by `POST /v1/auth/sessions`",
    auto_error=False,
)
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(API_KEY)]
CookieDep = Annotated[str | None, Depends(STAFF_SESSION)]


def _principal(
    session: SessionDep, clock: ClockDep, key: str | None, cookie: str | None
) -> Principal:
    if key and key.strip():
        return identity_service.authenticate_api_key(session, key.strip(), clock=clock)
    if cookie:
        user = identity_service.authenticate_session(session, cookie, clock=clock)
        return identity_service.staff_principal(user)
    raise NotAuthenticated("send an API key (Authorization: Bearer rk_...) or sign in")


class Require:
    """Dependency: the caller, who must hold `permission` (an API key or a staff session)."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    def check(self, request: Request, principal: Principal) -> Principal:
        if not principal.can(self.permission):
            raise Forbidden(f"{principal.actor} lacks the {self.permission} permission")
        request.state.principal = principal
        return principal

    def __call__(
        self,
        request: Request,
        session: SessionDep,
        clock: ClockDep,
        bearer: BearerDep,
        cookie: CookieDep,
    ) -> Principal:
        key = bearer.credentials if bearer else None
        return self.check(request, _principal(session, clock, key, cookie))


class RequireStaff(Require):
    """A permission no API key can hold: only a staff session is declared (a key is still read,
    and refused with a 403)."""

    def __call__(  # type: ignore[override]
        self,
        request: Request,
        session: SessionDep,
        clock: ClockDep,
        cookie: CookieDep,
    ) -> Principal:
        key = _bearer(request)
        return self.check(request, _principal(session, clock, key, cookie))


def _bearer(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials if scheme.lower() == "bearer" else None


def authenticate(
    request: Request, session: SessionDep, clock: ClockDep, bearer: BearerDep, cookie: CookieDep
) -> Principal:
    """Dependency: whoever calls, with no permission asked."""
    return _principal(session, clock, bearer.credentials if bearer else None, cookie)


def require(permission: Permission) -> Any:
    check = Require(permission) if permission in API_KEY_SCOPES else RequireStaff(permission)
    return Security(check, scopes=[str(permission)])


def requirement_of(dependency: Callable[..., Any]) -> Permission | None:
    return dependency.permission if isinstance(dependency, Require) else None


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]
