from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from recoup.kit.errors import RecoupError


class ErrorBody(BaseModel):
    error: str = Field(description="Stable error code", examples=["validation_failed"])
    message: str = Field(description="What went wrong, for a person")
    details: Any = Field(None, description="Field-level problems, when there are any")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Bad request"},
    401: {"model": ErrorBody, "description": "Missing or wrong credentials or signature"},
    404: {"model": ErrorBody, "description": "Not found"},
    409: {"model": ErrorBody, "description": "Conflicts with what is recorded"},
    422: {"model": ErrorBody, "description": "Invalid input; `details` names each field"},
}


def error_response(exc: RecoupError) -> JSONResponse:
    body = ErrorBody(error=exc.code, message=exc.message, details=exc.details)
    return JSONResponse(body.model_dump(), status_code=exc.status_code)


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
