"""What every page behind a pay link shares: the visit (the link, its debtor, the language),
the page rendered with the link's CSRF field, form values, the one-time code's gate, and a refused
action as the page shows it lives in `web.refusals`. The portal's self-service pages, autopay, chat, learning centre and
"was I heard" all build on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends
from fastapi.responses import HTMLResponse, RedirectResponse

from recoup.arrangements.links import PayLink, is_verified
from recoup.config import Settings
from recoup.contact.templates import LANGUAGES, language_for
from recoup.http.deps import SessionDep
from recoup.http.idempotency import body_of
from recoup.kit.clock import Clock
from recoup.ledger.repository import CustomerRepository
from recoup.models import Customer
from recoup.web.portal import HEADERS, csrf_field, csrf_ok, open_link, page

VERIFIED = "recoup_verified"  # the cookie the one-time code sets, scoped to the link's path
Body = Annotated[bytes, Depends(body_of)]


@dataclass
class Visit:
    """One request on a genuine link: who, in which language, and how to link onwards."""

    token: str
    link: PayLink
    customer: Customer
    language: str
    explicit: bool  # the language came from ?lang= and travels with every link

    def url(self, path: str = "", **query: str) -> str:
        params = {**query, **({"lang": self.language} if self.explicit else {})}
        qs = "&".join(f"{k}={quote(v)}" for k, v in params.items())
        joiner = "&" if "?" in path else "?"
        return f"/p/{self.token}{path}" + (f"{joiner}{qs}" if qs else "")


def open_visit(
    session: SessionDep, token: str, settings: Settings, clock: Clock, lang: str | None
) -> Visit | HTMLResponse:
    link = open_link(session, token, settings, clock)
    if link is None:
        return page("gone.html", lang if lang in LANGUAGES else "zh-CN", settings, 410)
    customer = CustomerRepository(session).get(link.customer_id)
    assert customer is not None
    explicit = lang in LANGUAGES
    language = str(
        lang if explicit else language_for(customer.preferred_language, customer.jurisdiction)
    )
    return Visit(token, link, customer, language, explicit)


def form_value(form: dict[str, list[str]], key: str, default: str = "") -> str:
    return (form.get(key) or [default])[0].strip()


def form_csrf_ok(form: dict[str, list[str]], settings: Settings, token: str) -> bool:
    return csrf_ok(form_value(form, "csrf"), settings, token)


def code_verified(
    request_cookie: str | None, settings: Settings, visit: Visit, clock: Clock
) -> bool:
    return is_verified(
        settings.link_signing_keys, request_cookie, visit.customer.id, now=clock.now()
    )


def verified_visit(
    session: SessionDep,
    token: str,
    settings: Settings,
    clock: Clock,
    lang: str | None,
    cookie: str | None,
    back: str,
) -> Visit | HTMLResponse | RedirectResponse:
    """A visit to a page behind the one-time code: to the code page (then back) without it."""
    visit = open_visit(session, token, settings, clock, lang)
    if isinstance(visit, HTMLResponse):
        return visit
    if not code_verified(cookie, settings, visit, clock):
        return gate(visit, back)
    return visit


def render(
    visit: Visit, template: str, settings: Settings, status: int = 200, **context: Any
) -> HTMLResponse:
    return page(
        template,
        visit.language,
        settings,
        status,
        url=visit.url,
        csrf=csrf_field(settings, visit.token),
        **context,
    )


def gate(visit: Visit, next_path: str) -> RedirectResponse:
    """To the code page, coming back to `next_path` (this link's own pages only) afterwards."""
    return RedirectResponse(visit.url("/verify", next=next_path), status_code=303, headers=HEADERS)
