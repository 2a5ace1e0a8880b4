"""Errors that carry their HTTP status, and document it.

RecoupError (500)
├── BadRequest (400)
│   └── ValidationFailed (422)
├── NotAuthenticated (401)
│   └── BadSignature (401)
├── Forbidden (403)
├── NotFound (404)
├── Conflict (409)
│   ├── IdempotencyConflict (409)
│   └── ReplayRejected (409)
├── PayloadTooLarge (413)
└── ConfigurationError (500)

Below them, `InvalidValue` (a `ValueError`, a 422 where a page or endpoint catches it) is a value a
person typed that is not one (an amount, a posted form): its `reason` and `values` say the same
as its English message, as data, like a domain error's `details={"reason": ...}`, so the debtor's
portal words either in the page's language (`recoup.web.refusals`).

Domains subclass these; the API renders any of them as JSON `ErrorBody`
(`{"error": code, "message": ..., "details"}`). Each class describes its own OpenAPI response
(`response()`: status, description, `ErrorBody` with the class's code as the example), which endpoints
declare through `recoup.http.errors.responses(...)`. Expected business outcomes are never a 500.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, Field


class InvalidValue(ValueError):
    """A typed value refused: the message for a person reading English, `reason` (a stable code)
    and `values` (its bounds) for a page to say it in its own language."""

    def __init__(self, message: str, *, reason: str, **values: Any) -> None:
        super().__init__(message)
        self.reason = reason
        self.values = values


class ErrorBody(BaseModel):
    error: str = Field(description="Stable error code", examples=["validation_failed"])
    message: str = Field(description="What went wrong, for a person")
    details: Any = Field(None, description="Field-level problems, when there are any")


class RecoupError(Exception):
    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    description: ClassVar[str] = "Internal error"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def body(self) -> ErrorBody:
        return ErrorBody(error=self.code, message=self.message, details=self.details)

    @classmethod
    def response(cls) -> dict[str, Any]:
        """This error's OpenAPI response entry (the value under its status code)."""
        example = ErrorBody(error=cls.code, message=cls.description).model_dump()
        return {
            "description": cls.description,
            "model": ErrorBody,
            "content": {
                "application/json": {
                    "examples": {cls.code: {"summary": cls.description, "value": example}}
                }
            },
        }


class BadRequest(RecoupError):
    status_code = 400
    code = "bad_request"
    description = "Bad request"


class ValidationFailed(BadRequest):
    status_code = 422
    code = "validation_failed"
    description = "Invalid input; `details` names each field"


class NotAuthenticated(RecoupError):
    status_code = 401
    code = "not_authenticated"
    description = "Missing or wrong credentials"


class BadSignature(NotAuthenticated):
    code = "bad_signature"
    description = "Missing, wrong or stale signature"


class Forbidden(RecoupError):
    status_code = 403
    code = "forbidden"
    description = "The credentials lack the permission this operation needs"


class NotFound(RecoupError):
    status_code = 404
    code = "not_found"
    description = "Not found"


class Conflict(RecoupError):
    status_code = 409
    code = "conflict"
    description = "Conflicts with what is recorded"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"
    description = "The Idempotency-Key was already used for a different request"


class ReplayRejected(Conflict):
    code = "replay_rejected"
    description = "This signed delivery was already received"


class PayloadTooLarge(RecoupError):
    status_code = 413
    code = "payload_too_large"
    description = "The body is larger than this operation accepts"


class ConfigurationError(RecoupError):
    code = "configuration_error"
    description = "Recoup is not configured for this"
