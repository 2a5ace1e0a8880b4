"""The console on the app: its routes, its static files, and errors answered as pages.

Under `/console` an error is a page in the staff member's language, not the API's JSON: a missing
session sends a GET to the sign-in page (a POST gets a 401 page), a missing permission or CSRF field
is a 403 page, a service's refusal or a malformed request its 4xx page with the message. Elsewhere
the API's handlers answer as before.
"""

from __future__ import annotations

from importlib import resources
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from recoup.console import ROUTERS
from recoup.console.base import HEADERS, CsrfRefused, PageForbidden, SignInNeeded, render
from recoup.kit.errors import RecoupError

PREFIX = "/console"


def _console(request: Request) -> bool:
    path = request.url.path
    return path == PREFIX or path.startswith(PREFIX + "/")


def _error_page(request: Request, status: int, message: str, code: str) -> Response:
    staff = getattr(request.state, "staff", None)
    title = {401: "signed_out", 404: "not_found"}.get(status, "error")
    if code in ("forbidden", "csrf"):
        title = code
    return render(
        request,
        staff,
        "error.html",
        status=status,
        status_code=status,
        message=message,
        code=code,
        title_key=f"common.error_{title}",
    )


def install(app: FastAPI) -> None:
    for router in ROUTERS:
        app.include_router(router)
    app.mount(
        "/console/static",
        StaticFiles(directory=str(resources.files("recoup.console") / "static")),
        name="console-static",
    )

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/console", status_code=307)

    previous = dict(app.exception_handlers)

    async def _fallback(request: Request, exc: Exception) -> Response:
        for kind in type(exc).__mro__:
            handler = previous.get(kind)
            if handler is not None:
                result = handler(request, exc)
                return await result if hasattr(result, "__await__") else result  # type: ignore[no-any-return]
        raise exc

    async def sign_in_needed(request: Request, _exc: Exception) -> Response:
        if request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(
                f"/console/sign-in?next={quote(target, safe='')}", status_code=303, headers=HEADERS
            )
        return _error_page(request, 401, "", "signed_out")

    async def forbidden(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageForbidden)
        return _error_page(request, 403, str(exc.permission), "forbidden")

    async def csrf_refused(request: Request, _exc: Exception) -> Response:
        return _error_page(request, 403, "", "csrf")

    async def recoup_error(request: Request, exc: Exception) -> Response:
        if not _console(request):
            return await _fallback(request, exc)
        assert isinstance(exc, RecoupError)
        return _error_page(request, exc.status_code, exc.message, exc.code)

    async def invalid_request(request: Request, exc: Exception) -> Response:
        if not _console(request):
            return await _fallback(request, exc)
        assert isinstance(exc, RequestValidationError)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or e['loc'][0]}: {e['msg']}"
            for e in exc.errors()[:5]
        )
        return _error_page(request, 422, problems, "validation_failed")

    async def http_error(request: Request, exc: Exception) -> Response:
        if not _console(request) or request.url.path.startswith(PREFIX + "/static/"):
            return await _fallback(request, exc)
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http")
        return _error_page(request, exc.status_code, "", code)

    handlers: dict[Any, Any] = {
        SignInNeeded: sign_in_needed,
        PageForbidden: forbidden,
        CsrfRefused: csrf_refused,
        RecoupError: recoup_error,
        RequestValidationError: invalid_request,
        StarletteHTTPException: http_error,
    }
    for kind, handler in handlers.items():
        app.add_exception_handler(kind, handler)
