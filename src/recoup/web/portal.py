"""The debtor's portal, reached through a pay link: balances and bills in the debtor's language
(zh-CN, zh-TW, en, with a switch), mobile first, no JavaScript.

The link's token is the credential: the page never says whether a link is expired, revoked or
forged (all answer 410 with the same page), never sends the token on (Referrer-Policy), and is
never cached.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from importlib import resources
from typing import Any

from babel.dates import format_date
from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape

from recoup.api.deps import ClockDep, SessionDep, SettingsDep
from recoup.arrangements import service as arrangement_service
from recoup.audit import service as audit_service
from recoup.config import Settings
from recoup.contact.templates import LANGUAGES, language_for
from recoup.kit.errors import NotAuthenticated
from recoup.kit.masking import mask_name
from recoup.kit.money import format_money
from recoup.web.text import LANGUAGE_NAMES, TEXT

router = APIRouter(include_in_schema=False)
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
}


def static_files() -> StaticFiles:
    return StaticFiles(directory=str(resources.files("recoup.web") / "static"))


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("recoup.web", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _page(
    template: str, language: str, settings: Settings, status: int, **context: Any
) -> HTMLResponse:
    locale = LANGUAGES[language]

    def money(amount_minor: int, currency: str) -> str:
        return format_money(amount_minor, currency, locale)

    def date(value: dt.date) -> str:
        return str(
            format_date(value, format="long" if language != "en" else "medium", locale=locale)
        )

    html = (
        _environment()
        .get_template(template)
        .render(
            language=language,
            languages=LANGUAGE_NAMES,
            t=TEXT[language],
            money=money,
            date=date,
            phone=settings.support_phone,
            creditor=settings.creditor_name,
            **context,
        )
    )
    return HTMLResponse(html, status_code=status, headers=HEADERS)


@router.get("/p/{token}", response_class=HTMLResponse)
def portal(
    token: str,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    lang: str | None = None,
) -> HTMLResponse:
    try:
        link = arrangement_service.open_link(
            session, token, keys=settings.link_signing_keys, clock=clock
        )
    except NotAuthenticated:
        language = lang if lang in LANGUAGES else "zh-CN"
        return _page("gone.html", str(language), settings, 410)
    view = arrangement_service.portal_view(session, link.customer_id)
    language = lang if lang in LANGUAGES else language_for(view.language, view.jurisdiction)
    audit_service.record(
        session,
        actor="debtor",
        action="portal.opened",
        subject_type="customer",
        subject_id=link.customer_id,
        clock=clock,
        details={"contact_id": link.contact_id},
    )
    return _page(
        "portal.html",
        str(language),
        settings,
        200,
        name=mask_name(view.name),
        accounts=[a for a in view.accounts if a.bills or a.outstanding_minor],
    )
