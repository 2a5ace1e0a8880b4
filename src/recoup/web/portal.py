"""The debtor's portal, reached through a pay link: balances and bills in the debtor's language
(zh-CN, zh-TW, en, with a switch), mobile first, no JavaScript.

The link's token is the credential: the page never says whether a link is expired, revoked or
forged (all answer 410 with the same page), never sends the token on (Referrer-Policy), and is
never cached.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any
from urllib.parse import parse_qsl

from babel.dates import format_date
from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape

from recoup.arrangements import offers as arrangement_offers
from recoup.arrangements import service as arrangement_service
from recoup.arrangements.links import PayLink
from recoup.arrangements.repository import ArrangementRepository
from recoup.arrangements.terms import OFFER_BOUNDS
from recoup.audit import service as audit_service
from recoup.channels.wallet import WalletPaymentsAdapter
from recoup.config import Settings
from recoup.contact.templates import LANGUAGES, language_for
from recoup.http.deps import ClockDep, SessionDep, SettingsDep
from recoup.http.idempotency import body_of
from recoup.kit.errors import InvalidValue, NotAuthenticated, NotFound, RecoupError
from recoup.kit.logging import get_logger
from recoup.kit.masking import mask_name
from recoup.kit.money import currency_symbol, format_money, to_major, to_minor
from recoup.ledger.repository import AccountRepository
from recoup.web.refusals import failure
from recoup.web.text import LANGUAGE_NAMES, TEXT

log = get_logger(__name__)

router = APIRouter(include_in_schema=False)
RECENT = dt.timedelta(minutes=30)  # a pay-now this recent is reported on the page
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
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("recoup.web", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def page(
    template: str, language: str, settings: Settings, status: int, **context: Any
) -> HTMLResponse:
    locale = LANGUAGES[language]

    def money(amount_minor: int, currency: str) -> str:
        return format_money(amount_minor, currency, locale)

    def symbol(currency: str) -> str:
        """What fills a text's `{currency}` (还款金额（¥）, Amount to pay (€)): the symbol the
        page's amounts carry in its locale, never the ISO code."""
        return currency_symbol(currency, locale)

    def date(value: dt.date) -> str:
        return str(
            format_date(value, format="long" if language != "en" else "medium", locale=locale)
        )

    html = (
        environment()
        .get_template(template)
        .render(
            language=language,
            languages=LANGUAGE_NAMES,
            t=TEXT[language],
            money=money,
            symbol=symbol,
            date=date,
            phone=settings.support_phone,
            creditor=settings.creditor_name,
            **context,
        )
    )
    return HTMLResponse(html, status_code=status, headers=HEADERS)


class BadForm(InvalidValue):
    """A form no page of ours sends as it came (unreadable, a field too long, a value not
    offered): a 4xx page whose words say which, never a 500."""

    def __init__(self, message: str, *, reason: str = "form", **values: Any) -> None:
        super().__init__(message, reason=reason, **values)


def read_form(body: bytes) -> dict[str, list[str]]:
    """A posted form, or BadForm (a 400/422 page, never a 500) for one no browser would send."""
    try:
        pairs = parse_qsl(body.decode("utf-8", "strict"), max_num_fields=40)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadForm("the form could not be read", reason="form_unreadable") from exc
    form: dict[str, list[str]] = {}
    for key, value in pairs:
        if len(value) > 4_000:
            raise BadForm(f"{key} is too long", reason="field_too_long")
        form.setdefault(key, []).append(value)
    return form


def csrf_ok(given: str, settings: Settings, token: str) -> bool:
    """Compared as bytes: a forged field may hold any character, and `compare_digest` refuses
    non-ASCII text."""
    return hmac.compare_digest(
        given.encode("utf-8", "replace"), csrf_field(settings, token).encode()
    )


def csrf_field(settings: Settings, token: str) -> str:
    """The form's anti-forgery field: bound to this link, so a page elsewhere cannot post one."""
    return hmac.new(
        settings.link_signing_keys[0], b"csrf:" + token.encode(), hashlib.sha256
    ).hexdigest()[:32]


def open_link(
    session: SessionDep, token: str, settings: Settings, clock: ClockDep
) -> PayLink | None:
    try:
        return arrangement_service.open_link(
            session, token, keys=settings.link_signing_keys, clock=clock
        )
    except NotAuthenticated:
        return None


def _portal(
    session: SessionDep,
    token: str,
    link: PayLink,
    lang: str | None,
    settings: Settings,
    clock: ClockDep,
    *,
    status: int = 200,
    refused: RecoupError | ValueError | None = None,
    failed: str | None = None,
    done: str | None = None,
) -> HTMLResponse:
    """`refused` is a refusal the page words in its language (`web.refusals`); `failed` names a
    text the page says in its language."""
    view = arrangement_service.portal_view(session, link.customer_id, today=clock.now().date())
    language = str(lang if lang in LANGUAGES else language_for(view.language, view.jurisdiction))
    t = TEXT[language]
    error = t[failed] if failed is not None else None
    if refused is not None:
        error = failure(refused, language)[1]
    notice = None
    latest = arrangement_service.latest_intent(
        session, link.customer_id, since=clock.now() - RECENT
    )
    if latest is not None and error is None:
        notice = {"succeeded": t["paid_thanks"], "declined": t["declined"]}.get(
            latest.status, t["waiting"]
        )
    if done is not None and f"done_{done}" in t:
        notice = t[f"done_{done}"]
    accounts = [a for a in view.accounts if a.bills or a.outstanding_minor]
    offers, arrangements = {}, {}
    for a in accounts:
        account = AccountRepository(session).get(a.account_id)
        assert account is not None
        offered = arrangement_offers.offered(session, account, clock=clock)
        offers[a.reference] = [k for k in OFFER_BOUNDS if k in offered]
        arrangements[a.reference] = ArrangementRepository(session).open_for_account(account.id)
    suffix = f"?lang={language}" if lang in LANGUAGES else ""
    return page(
        "portal.html",
        language,
        settings,
        status,
        name=mask_name(view.name),
        accounts=accounts,
        offers=offers,
        arrangements=arrangements,
        base=f"/p/{token}",
        suffix=suffix,
        csrf=csrf_field(settings, token),
        pay_action=f"/p/{token}/pay" + (f"?lang={language}" if lang in LANGUAGES else ""),
        major=lambda amount, currency: str(to_major(amount, currency)),
        notice=notice,
        error=t["pay_error"].format(reason=error) if error else None,
    )


@router.get("/p/{token}", response_class=HTMLResponse)
def portal(
    token: str,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    lang: str | None = None,
    done: str | None = None,
) -> HTMLResponse:
    link = open_link(session, token, settings, clock)
    if link is None:
        return page("gone.html", str(lang if lang in LANGUAGES else "zh-CN"), settings, 410)
    audit_service.record(
        session,
        actor="debtor",
        action="portal.opened",
        subject_type="customer",
        subject_id=link.customer_id,
        clock=clock,
        details={"contact_id": link.contact_id},
    )
    return _portal(session, token, link, lang, settings, clock, done=done)


@router.post("/p/{token}/pay", response_model=None)
def pay(
    token: str,
    body: Annotated[bytes, Depends(body_of)],
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    lang: str | None = None,
) -> HTMLResponse | RedirectResponse:
    """Pay now: the form's amount for one account, through the wallet; the debtor is sent to the
    wallet to approve it and comes back here."""
    link = open_link(session, token, settings, clock)
    if link is None:
        return page("gone.html", str(lang if lang in LANGUAGES else "zh-CN"), settings, 410)
    try:
        form = {k: v[0] for k, v in read_form(body).items()}
    except BadForm as exc:
        return _portal(session, token, link, lang, settings, clock, status=400, refused=exc)
    if not csrf_ok(form.get("csrf", ""), settings, token):
        return _portal(
            session, token, link, lang, settings, clock, status=403, failed="refused_csrf"
        )
    view = arrangement_service.portal_view(session, link.customer_id, today=clock.now().date())
    account = next((a for a in view.accounts if a.reference == form.get("account")), None)
    try:
        if account is None:
            raise NotFound("no such account", details={"reason": "no_account"})
        url, secrets = settings.wallet_api
        wallet = WalletPaymentsAdapter(url=url, secret=secrets)
        try:
            intent = arrangement_service.start_payment(
                session,
                link,
                account_ref=account.reference,
                amount_minor=to_minor(form.get("amount", ""), account.currency),
                wallet=wallet,
                return_url=f"{settings.public_url.rstrip('/')}/p/{token}",
                clock=clock,
            )
        finally:
            wallet.close()
    except arrangement_service.WalletUnavailable as exc:
        # The debtor reads "try again later" in their language; the wallet's reason is for staff.
        log.warning("portal.wallet_unavailable", reason=exc.message)
        return _portal(
            session, token, link, lang, settings, clock, status=exc.status_code,
            failed="wallet_unavailable",
        )  # fmt: skip
    except (RecoupError, ValueError) as exc:
        status = exc.status_code if isinstance(exc, RecoupError) else 422
        return _portal(session, token, link, lang, settings, clock, status=status, refused=exc)
    assert intent.redirect_url is not None
    return RedirectResponse(intent.redirect_url, status_code=303, headers=HEADERS)
