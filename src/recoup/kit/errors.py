"""Errors that carry their HTTP status.

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
└── ConfigurationError (500)

Domains subclass these; the API renders any of them as JSON `{"error": code, "message": ..., "details"}`.
Expected business outcomes are never a 500.
"""

from __future__ import annotations

from typing import Any


class RecoupError(Exception):
    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class BadRequest(RecoupError):
    status_code = 400
    code = "bad_request"


class ValidationFailed(BadRequest):
    status_code = 422
    code = "validation_failed"


class NotAuthenticated(RecoupError):
    status_code = 401
    code = "not_authenticated"


class BadSignature(NotAuthenticated):
    code = "bad_signature"


class Forbidden(RecoupError):
    status_code = 403
    code = "forbidden"


class NotFound(RecoupError):
    status_code = 404
    code = "not_found"


class Conflict(RecoupError):
    status_code = 409
    code = "conflict"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"


class ReplayRejected(Conflict):
    code = "replay_rejected"


class ConfigurationError(RecoupError):
    code = "configuration_error"
