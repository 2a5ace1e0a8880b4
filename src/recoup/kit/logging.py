"""Structured JSON logs (structlog) with a redaction step that runs before anything is written.

Personal data must never reach a log line (invariant 6). Two nets:
- by key: values under keys that name personal or secret data are replaced;
- by shape: any string value (URL-encoded text decoded first) is scanned for phone numbers, e-mail
  addresses and Chinese ID numbers, which are masked wherever they appear (in messages, exceptions,
  URLs); a link's token in a path and the values of personal or secret query parameters too.
  Lines from the standard library (uvicorn's access log included) go through the same step.
Log event names are dotted (`delinquency.pass_finished`) with keyword fields.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO
from urllib.parse import unquote

import structlog

REDACTED = "[redacted]"
SENSITIVE_KEYS = re.compile(
    r"(^|_)(name|phone|phones|email|emails|national_id|address|addresses|city|postal_code|line|"
    r"password|token|secret|key|authorization|cookie|otp|code)$",
    re.IGNORECASE,
)
SAFE_KEYS = {"event", "level", "timestamp", "logger", "action", "status_code", "key_id", "kind"}
PATTERNS = [
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "[email]"),
    (
        re.compile(r"(?<![\w])\d{6}(19|20)\d{2}(0[1-9]|1[0-2])\d{2}\d{3}[\dXx](?![\w])"),
        "[national-id]",
    ),
    (re.compile(r"\+\d[\d \-()]{7,}\d"), "[phone]"),
    (re.compile(r"(?<!\d)\(?\d{3}\)?[ -]\d{3}-\d{4}(?!\d)"), "[phone]"),
    (re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"), "[phone]"),
]


# A link's token is a credential wherever a path carries it (our request log, uvicorn's access
# log, an exception's message): `/p/<token>/...`, `/v1/unsubscribe/<token>`.
_TOKEN_IN_PATH = re.compile(r"(/p|/unsubscribe)/[^/?#\s\"']+")
# Query parameters whose values are personal or secret, in any URL a line quotes.
_SENSITIVE_QUERY = re.compile(
    r"([?&;](?:[\w.-]*_)?(?:phone|email|national_id|name|token|code|otp|password|secret|key|"
    r"signature)[\w.-]*=)[^&;#\s\"']*",
    re.IGNORECASE,
)
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")


def loggable_path(path: str) -> str:
    """A request path for a log line: never a link's token, never a query string."""
    return _TOKEN_IN_PATH.sub(r"\1/{token}", path.split("?", 1)[0])


def scrub(text: str) -> str:
    """`text` with personal data and credentials masked, in every spelling: URL-encoded forms
    (`%2B86...`, `...%40example.com`) are decoded first, so they meet the same patterns."""
    if _PERCENT.search(text):
        text = unquote(text)
    text = _TOKEN_IN_PATH.sub(r"\1/{token}", text)
    text = _SENSITIVE_QUERY.sub(rf"\1{REDACTED}", text)
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: (REDACTED if _sensitive(k) else _clean(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _sensitive(key: Any) -> bool:
    return isinstance(key, str) and key not in SAFE_KEYS and bool(SENSITIVE_KEYS.search(key))


def redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if key in ("timestamp", "level"):
            continue
        event[key] = REDACTED if _sensitive(key) else _clean(event[key])
    return event


def configure(*, level: str = "INFO", stream: TextIO | None = None, json: bool = True) -> None:
    """Route structlog and the standard library (uvicorn, SQLAlchemy) through one JSON pipeline."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # SQL with its parameters is not for logs; errors still come through.
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)


def level_number(name: str) -> int:
    number = logging.getLevelName(name.upper())
    return number if isinstance(number, int) else logging.INFO


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
