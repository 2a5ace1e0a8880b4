"""Privacy's service: data-subject requests (`requests`: export, erasure, retention) and consent
records (`consents`). Callers keep `from recoup.privacy import service as privacy_service`."""

from recoup.privacy.service.consents import (
    CHANNELS,
    KINDS,
    SOURCES,
    ConsentNotFound,
    consents_of,
    in_force,
    record_consent,
    validate,
    withdraw_consent,
)
from recoup.privacy.service.decisions import AccountDecisions, automated_decisions
from recoup.privacy.service.requests import (
    DEFAULT_RETENTION,
    ERASED_NAME,
    RETENTION,
    CustomerNotFound,
    ErasureDecision,
    RetentionReport,
    erasure_requests,
    export,
    opt_outs_of,
    request_erasure,
    retention_of,
    run_retention,
)

__all__ = [
    "CHANNELS",
    "DEFAULT_RETENTION",
    "ERASED_NAME",
    "KINDS",
    "RETENTION",
    "SOURCES",
    "AccountDecisions",
    "ConsentNotFound",
    "CustomerNotFound",
    "ErasureDecision",
    "RetentionReport",
    "automated_decisions",
    "consents_of",
    "erasure_requests",
    "export",
    "in_force",
    "opt_outs_of",
    "record_consent",
    "request_erasure",
    "retention_of",
    "run_retention",
    "validate",
    "withdraw_consent",
]
