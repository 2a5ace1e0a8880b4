"""Errors as HTTP answers: one JSON renderer (`ErrorBody`) for every `RecoupError` and for FastAPI's
own validation errors, and the OpenAPI entries endpoints declare for the errors they can raise.

    router = APIRouter(responses=AUTHENTICATED)             # 401, 403, 422 on every route
    @router.get("/x/{id}", responses=responses(NotFound))  # plus what this route adds

An endpoint's entry for a status replaces the router's for that status, so a route adding another
422 or 401 lists the defaults with it: `responses(*AUTHENTICATED_ERRORS, BadPeriod)`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from recoup.kit.errors import (
    ErrorBody,
    Forbidden,
    NotAuthenticated,
    RecoupError,
    ValidationFailed,
)

Responses = dict[int | str, dict[str, Any]]


def responses(*errors: type[RecoupError]) -> Responses:
    """The OpenAPI `responses` for these error classes: one entry per status code, whose description
    joins the classes' and whose examples show each class's code."""
    out: Responses = {}
    for error in errors:
        entry = error.response()
        held = out.get(error.status_code)
        if held is None:
            out[error.status_code] = entry
            continue
        if entry["description"] not in held["description"].split("; "):
            held["description"] += "; " + entry["description"]
        held["content"]["application/json"]["examples"].update(
            entry["content"]["application/json"]["examples"]
        )
    return out


# What every route behind a permission check (`recoup.identity.auth.require`) can answer besides its
# own errors: no or bad credentials, credentials without the permission, invalid input.
AUTHENTICATED_ERRORS: tuple[type[RecoupError], ...] = (
    NotAuthenticated,
    Forbidden,
    ValidationFailed,
)
AUTHENTICATED = responses(*AUTHENTICATED_ERRORS)


def error_response(exc: RecoupError) -> JSONResponse:
    return JSONResponse(exc.body().model_dump(), status_code=exc.status_code)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RecoupError)
    def _recoup_error(_request: Request, exc: RecoupError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()
        ]
        message = "; ".join(f"{d['field']}: {d['problem']}" for d in details[:5])
        body = ErrorBody(error="validation_failed", message=message, details=details)
        return JSONResponse(body.model_dump(), status_code=422)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        # FastAPI answers a body it cannot decode (not UTF-8) with a bare 400 no route documents:
        # it is invalid input like any other, a 422 with the error body.
        if exc.status_code == 400:
            return error_response(ValidationFailed(f"the body cannot be read: {exc.detail}"))
        return await http_exception_handler(request, exc)
