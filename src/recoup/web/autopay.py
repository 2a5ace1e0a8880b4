"""The portal's autopay page, behind the same pay link and the one-time code: each open account's
mandate (on, waiting for the wallet's approval, or off), turning it on (to the wallet's approval
page, and back here), turning it off, and the latest collections.

A link sees and cancels only its own customer's mandates: another customer's answers as a missing
one. Every form carries the link-bound CSRF field and works without JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Cookie
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from recoup.autopay import service as autopay_service
from recoup.channels.wallet import WalletPaymentsAdapter
from recoup.config import Settings
from recoup.http.deps import ClockDep, SessionDep, SettingsDep
from recoup.kit.clock import Clock
from recoup.kit.errors import RecoupError
from recoup.ledger.repository import AccountRepository
from recoup.models import Account, AutopayCollection, AutopayMandate
from recoup.web.portal import HEADERS, BadForm, read_form
from recoup.web.refusals import failure, refusal
from recoup.web.text import TEXT
from recoup.web.visit import (
    VERIFIED,
    Body,
    Visit,
    form_csrf_ok,
    form_value,
    render,
    verified_visit,
)

router = APIRouter(include_in_schema=False)
BACK = "/autopay"


@dataclass
class Row:
    account: Account
    mandate: AutopayMandate | None
    collections: list[AutopayCollection] = field(default_factory=list)


def _wallet(settings: Settings) -> WalletPaymentsAdapter:
    url, secrets = settings.wallet_api
    return WalletPaymentsAdapter(url=url, secret=secrets)


def _rows(
    session: Session, visit: Visit, settings: Settings, clock: Clock
) -> tuple[list[Row], str | None]:
    """Each open account with its latest mandate, a pending one read back from the wallet (the
    debtor returns here from approving or declining it): and what changed, for the notice."""
    latest: dict[int, AutopayMandate] = {}
    for m in autopay_service.mandates_of(session, visit.customer.id):
        latest.setdefault(m.account_id, m)
    changed = None
    pending = [m for m in latest.values() if m.state == "pending"]
    if pending:
        wallet = _wallet(settings)
        try:
            for m in pending:
                autopay_service.refresh(session, m, wallet=wallet, clock=clock)
                if m.state == "active":
                    changed = "autopay_on"
                elif m.state == "failed":
                    changed = "autopay_declined"
        finally:
            wallet.close()
    ids = [m.id for m in latest.values()]
    collections = autopay_service.collections_of(session, ids, limit=30)
    rows = []
    for account in AccountRepository(session).open_of_customer(visit.customer.id):
        held = latest.get(account.id)
        own = [c for c in collections if held is not None and c.mandate_id == held.id][:5]
        rows.append(Row(account, held, own))
    return rows, changed


def _page(
    session: Session,
    visit: Visit,
    settings: Settings,
    clock: Clock,
    *,
    status: int = 200,
    error: str | None = None,
    done: str | None = None,
) -> HTMLResponse:
    rows, changed = _rows(session, visit, settings, clock)
    shown = changed or done
    notice = TEXT[visit.language].get(f"done_{shown}") if shown and error is None else None
    return render(visit, "autopay.html", settings, status, rows=rows, error=error, notice=notice)


@router.get("/p/{token}/autopay", response_model=None)
def autopay_page(
    token: str,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    verified: Annotated[str | None, Cookie(alias=VERIFIED)] = None,
    lang: str | None = None,
    done: str | None = None,
) -> HTMLResponse | RedirectResponse:
    visit = verified_visit(session, token, settings, clock, lang, verified, BACK)
    if not isinstance(visit, Visit):
        return visit
    shown = done if done in ("autopay_on", "autopay_off") else None
    return _page(session, visit, settings, clock, done=shown)


@router.post("/p/{token}/autopay", response_model=None)
def autopay_start(
    token: str,
    body: Body,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    verified: Annotated[str | None, Cookie(alias=VERIFIED)] = None,
    lang: str | None = None,
) -> HTMLResponse | RedirectResponse:
    """Turn autopay on for an account: a pending mandate at the wallet, and the debtor sent to
    approve it there (coming back to this page)."""
    visit = verified_visit(session, token, settings, clock, lang, verified, BACK)
    if not isinstance(visit, Visit):
        return visit
    try:
        form = read_form(body)
        if not form_csrf_ok(form, settings, token):
            return _page(
                session, visit, settings, clock, status=403, error=refusal(visit.language, "csrf")
            )
        wallet = _wallet(settings)
        try:
            mandate = autopay_service.start(
                session,
                visit.customer.id,
                form_value(form, "account")[:128],
                wallet=wallet,
                return_url=f"{settings.public_url.rstrip('/')}{visit.url(BACK)}",
                by="debtor",
                clock=clock,
            )
        finally:
            wallet.close()
    except (RecoupError, ValueError) as exc:
        status, message = failure(exc, visit.language)
        return _page(session, visit, settings, clock, status=status, error=message)
    if mandate.state == "pending" and mandate.redirect_url:
        return RedirectResponse(mandate.redirect_url, status_code=303, headers=HEADERS)
    return RedirectResponse(visit.url(BACK, done="autopay_on"), status_code=303, headers=HEADERS)


@router.post("/p/{token}/autopay/cancel", response_model=None)
def autopay_cancel(
    token: str,
    body: Body,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    verified: Annotated[str | None, Cookie(alias=VERIFIED)] = None,
    lang: str | None = None,
) -> HTMLResponse | RedirectResponse:
    """Turn autopay off: cancelled at the wallet, then here."""
    visit = verified_visit(session, token, settings, clock, lang, verified, BACK)
    if not isinstance(visit, Visit):
        return visit
    try:
        form = read_form(body)
        if not form_csrf_ok(form, settings, token):
            return _page(
                session, visit, settings, clock, status=403, error=refusal(visit.language, "csrf")
            )
        raw = form_value(form, "mandate")
        if not raw.isdigit() or len(raw) > 18:
            raise BadForm("choose an autopay to turn off", reason="autopay_choose")
        wallet = _wallet(settings)
        try:
            autopay_service.cancel(
                session, visit.customer.id, int(raw), wallet=wallet, by="debtor", clock=clock
            )
        finally:
            wallet.close()
    except (RecoupError, ValueError) as exc:
        status, message = failure(exc, visit.language)
        return _page(session, visit, settings, clock, status=status, error=message)
    return RedirectResponse(visit.url(BACK, done="autopay_off"), status_code=303, headers=HEADERS)
