"""A refused action as a portal page says it, in the page's language.

What refuses carries its reason as data: a domain error's `details={"reason": ..., **bounds}`
(`RecoupError`), or a typed value's `reason` and `values` (`kit.errors.InvalidValue`: an amount,
a posted form; `arrangements.terms.TermsRefused` the same way). The page words `refused_<reason>`
from its catalogue (`web.text.REFUSED`) with the bounds filled in: a number in the page's locale,
an amount `<name>_minor` with its `currency` as money, a word `value` under `key` by the catalogue's
`<key>_<value>` (the window `quiet` reads 免打扰时间). The service's own message is English and
for staff and the API; a refusal with no words in the catalogue reads as a general refusal in the
page's language (its status kept) rather than in English, and is logged by its reason alone, so
the gap can be filled.
"""

from __future__ import annotations

from typing import Any

from babel.numbers import format_decimal

from recoup.contact.templates import LANGUAGES
from recoup.kit.errors import InvalidValue, RecoupError
from recoup.kit.logging import get_logger
from recoup.kit.money import format_money
from recoup.web.text import TEXT

log = get_logger(__name__)


def refusal(language: str, reason: str, **values: Any) -> str:
    """`refused_<reason>` in `language`, its bounds worded; the general refusal when the
    catalogue has no such reason."""
    t = TEXT[language]
    said = t.get(f"refused_{reason}")
    if said is None:
        log.info("portal.refusal_unworded", reason=reason)
        return t["refused_other"]
    locale = LANGUAGES[language]
    words: dict[str, Any] = {}
    for key, value in values.items():
        if key.endswith("_minor") and isinstance(value, int) and "currency" in values:
            words[key.removesuffix("_minor")] = format_money(value, str(values["currency"]), locale)
        elif isinstance(value, int) and not isinstance(value, bool):
            words[key] = format_decimal(value, locale=locale)
        elif isinstance(value, str):
            words[key] = t.get(f"{key}_{value}", value)
        else:
            words[key] = value
    try:
        message = said.format(**words)
    except (KeyError, IndexError):  # a bound the words need and the refusal did not carry
        log.info("portal.refusal_unworded", reason=reason)
        return t["refused_other"]
    if "fits" in values:
        message += t["refused_fits"].format(fits=words["fits"])
    return message


def failure(exc: RecoupError | ValueError, language: str | None = None) -> tuple[int, str]:
    """A refused action as the page shows it: the error's status and message (a malformed value
    is a 422). With a `language` the message is the reason worded in it (`refusal`)."""
    if isinstance(exc, RecoupError):
        status, message = exc.status_code, exc.message
        details = exc.details if isinstance(exc.details, dict) else {}
        reason, values = details.get("reason"), {k: v for k, v in details.items() if k != "reason"}
    else:
        status, message = 422, str(exc)
        reason = exc.reason if isinstance(exc, InvalidValue) else getattr(exc, "reason", None)
        values = dict(getattr(exc, "values", {}) or {})
    if language is None:
        return status, message
    if not isinstance(reason, str):
        log.info("portal.refusal_unworded", error=type(exc).__name__, status=status)
        return status, TEXT[language]["refused_other" if status != 404 else "refused_not_found"]
    return status, refusal(language, reason, **values)
