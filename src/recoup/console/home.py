"""Signing in and out, the language switch, and the home page: what this person can open."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from recoup.console.base import (
    HEADERS,
    LANGUAGE_COOKIE,
    LANGUAGES,
    StaffPage,
    local_path,
    page_for,
    parse_form,
    read_form,
    redirect,
    render,
)
from recoup.http.deps import ClockDep, SessionDep
from recoup.identity import service as identity_service
from recoup.identity.auth import SESSION_COOKIE
from recoup.kit.errors import RecoupError
from recoup.kit.ratelimit import RateLimiter

router = APIRouter(include_in_schema=False)

# Before a session exists the sign-in form is protected by a double-submit token: a cookie of its
# own, echoed in the form (a page elsewhere can neither read the cookie nor set it).
SIGN_IN_COOKIE = "recoup_console_signin"
YEAR = 365 * 24 * 3600

AnyStaff = Annotated[StaffPage, Depends(page_for(None))]


def _sign_in_page(
    request: Request, *, next_: str, error: str | None = None, status: int = 200
) -> HTMLResponse:
    token = request.cookies.get(SIGN_IN_COOKIE)
    if not token or len(token) != 43:
        token = secrets.token_urlsafe(32)
    response = render(
        request, None, "sign_in.html", status=status, next=next_, sign_in_token=token, error=error
    )
    response.set_cookie(
        SIGN_IN_COOKIE, token, secure=True, httponly=True, samesite="strict", path="/console"
    )
    return response


@router.get("/console/sign-in")
def sign_in_page(request: Request, next: str | None = Query(None, max_length=500)) -> Response:
    return _sign_in_page(request, next_=local_path(next))


@router.post("/console/sign-in")
async def sign_in(request: Request, session: SessionDep, clock: ClockDep) -> Response:
    form = parse_form(await request.body())
    next_ = local_path(form.get("next"))
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    given = form.get("sign_in_token", "")
    if not expected or not hmac.compare_digest(
        given.encode("utf-8", "replace"), expected.encode("utf-8", "replace")
    ):
        return _sign_in_page(request, next_=next_, error="common.sign_in_expired", status=403)
    limiter: RateLimiter = request.app.state.sign_in_limiter
    client = request.client.host if request.client else "unknown"
    if limiter.hit(client) is not None:
        return _sign_in_page(request, next_=next_, error="common.sign_in_too_many", status=429)
    username = form.get("username", "").strip()[:64]
    password = form.get("password", "")[:256]
    outcome = identity_service.sign_in(session, username=username, password=password, clock=clock)
    if isinstance(outcome, RecoupError):
        return _sign_in_page(request, next_=next_, error="common.sign_in_wrong", status=401)
    response = redirect(next_)
    response.set_cookie(
        SESSION_COOKIE,
        outcome.token,
        max_age=int(identity_service.SESSION_ABSOLUTE.total_seconds()),
        secure=True,
        httponly=True,
        samesite="strict",
        path="/",
    )
    response.delete_cookie(SIGN_IN_COOKIE, path="/console", secure=True, httponly=True)
    return response


@router.post("/console/sign-out")
async def sign_out(
    request: Request, session: SessionDep, clock: ClockDep, staff: AnyStaff
) -> Response:
    await read_form(request, staff)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        identity_service.sign_out(session, token, clock=clock)
    response = redirect("/console/sign-in")
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response


@router.get("/console/language")
def language(
    lang: Annotated[str, Query(max_length=8)], next: str | None = Query(None, max_length=500)
) -> Response:
    """Switch the console's language (a preference cookie; nothing else changes)."""
    response = RedirectResponse(local_path(next), status_code=303, headers=HEADERS)
    if lang in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE, lang, max_age=YEAR, secure=True, samesite="lax", path="/console"
        )
    return response


@router.get("/console")
def home(request: Request, staff: AnyStaff) -> Response:
    return render(request, staff, "home.html")
