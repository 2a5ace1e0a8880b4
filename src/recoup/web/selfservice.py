"""The portal's self-service pages, behind the same pay link: arrangements within what the policy
offers (promise, plan with its schedule, extension, settlement), a one-time code before anything
sensitive, contact preferences and opt-outs, disputes, hardship and complaints, and "my data".

Every form carries the link-bound CSRF field. Sensitive actions (seeing personal data, changing
preferences, confirming a plan, an extension or a settlement) need a code sent to a phone or e-mail
already on file; entering it sets a short-lived, signed, HttpOnly, Secure, SameSite=Strict cookie
scoped to this link's path. A bad form answers 4xx with the page and a message, never a 500.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from babel.numbers import format_percent
from fastapi import APIRouter, Cookie
from fastapi.responses import HTMLResponse, RedirectResponse

from recoup.arrangements import flows as arrangement_flows
from recoup.arrangements import offers as arrangement_offers
from recoup.arrangements import service as arrangement_service
from recoup.arrangements import terms
from recoup.arrangements.links import VERIFIED_LIFETIME, verified_token
from recoup.cases import flows as case_flows
from recoup.compliance import deployment_guard
from recoup.compliance.packs import ConsentRule
from recoup.compliance.vocabulary import COLLECTOR_ROLE, jurisdiction_zones
from recoup.config import Settings, get_settings
from recoup.contact import flows as contact_flows
from recoup.contact.templates import LANGUAGES
from recoup.http.deps import ClockDep, SessionDep, SettingsDep
from recoup.kit.clock import Clock
from recoup.kit.errors import RecoupError
from recoup.kit.money import format_money, to_major, to_minor
from recoup.ledger.repository import AccountRepository
from recoup.models import Account, Customer
from recoup.privacy import service as privacy_service
from recoup.web.portal import (
    HEADERS,
    BadForm,
    read_form,
)
from recoup.web.refusals import failure, refusal
from recoup.web.visit import (
    VERIFIED,
    Body,
    Visit,
    code_verified,
    form_csrf_ok,
    form_value,
    gate,
    open_visit,
    render,
    verified_visit,
)

router = APIRouter(include_in_schema=False)
KINDS = tuple(terms.OFFER_BOUNDS)
NEEDS_CODE = frozenset({"plan", "extension", "settlement"})


def _account(session: SessionDep, visit: Visit, ref: str) -> Account | None:
    return arrangement_service.open_account(session, visit.customer.id, ref)


# Arrangements ------------------------------------------------------------------------------


def _offer_context(
    session: SessionDep, visit: Visit, account: Account, kind: str, clock: Clock
) -> dict[str, Any] | None:
    bounds = arrangement_offers.offered(session, account, clock=clock).get(kind)
    if bounds is None:
        return None
    pos = arrangement_offers.position(session, account, clock=clock)
    locale = LANGUAGES[visit.language]
    least = terms.share_of(pos.owed, bounds.get("min_share_bps", 0)) if kind == "settlement" else 0
    return {
        "kind": kind,
        "bounds": bounds,
        "pos": pos,
        "account": account,
        "least": format_money(least, pos.currency, locale),
        "pct": f"{bounds.get('fee_bps', 0) / 100:g}%",
        "major": lambda amount: str(to_major(amount, pos.currency)),
        "last_day": pos.today + dt.timedelta(days=int(bounds.get("max_days", 0))),
    }


@router.get("/p/{token}/a/{ref}/{kind}", response_class=HTMLResponse)
def arrangement_page(
    token: str,
    ref: str,
    kind: str,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    lang: str | None = None,
    n: str | None = None,
    budget: str | None = None,
    income: str | None = None,
) -> HTMLResponse:
    """The form for one kind of arrangement; a plan with `n` and a budget or income previews its
    schedule (a GET: nothing is made until the debtor confirms)."""
    visit = open_visit(session, token, settings, clock, lang)
    if isinstance(visit, HTMLResponse):
        return visit
    account = _account(session, visit, ref) if kind in KINDS else None
    context = _offer_context(session, visit, account, kind, clock) if account else None
    if context is None:
        return render(visit, "arrange.html", settings, 404, missing=True)
    quote_ = None
    error = None
    if kind == "plan" and n:
        try:
            quote_ = _plan_quote(session, account, context, n, budget, income, clock)  # type: ignore[arg-type]
        except (RecoupError, ValueError) as exc:
            error = failure(exc, visit.language)[1]
    return render(
        visit,
        "arrange.html",
        settings,
        422 if error else 200,
        quote=quote_,
        error=error,
        values={"n": n or "", "budget": budget or "", "income": income or ""},
        **context,
    )


def _plan_quote(
    session: SessionDep,
    account: Account,
    context: dict[str, Any],
    n: str,
    budget: str | None,
    income: str | None,
    clock: Clock,
) -> dict[str, Any]:
    if not n.strip().isdigit() or not 0 < int(n) <= 120:
        raise BadForm("choose a number of instalments", reason="instalments_number")
    currency = context["pos"].currency
    fee, schedule, _ = arrangement_flows.plan_quote(
        session,
        account,
        instalments=int(n),
        monthly_budget=to_minor(budget, currency) if budget else None,
        monthly_income=to_minor(income, currency) if income else None,
        clock=clock,
    )
    return {"fee": fee, "schedule": schedule, "total": sum(i.amount_minor for i in schedule)}


@router.post("/p/{token}/a/{ref}/{kind}", response_model=None)
def arrangement_make(
    token: str,
    ref: str,
    kind: str,
    body: Body,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    verified: Annotated[str | None, Cookie(alias=VERIFIED)] = None,
    lang: str | None = None,
) -> HTMLResponse | RedirectResponse:
    visit = open_visit(session, token, settings, clock, lang)
    if isinstance(visit, HTMLResponse):
        return visit
    account = _account(session, visit, ref) if kind in KINDS else None
    context = _offer_context(session, visit, account, kind, clock) if account else None
    if context is None or account is None:
        return render(visit, "arrange.html", settings, 404, missing=True)
    values: dict[str, str] = {}
    try:
        form = read_form(body)
        values = {
            k: form_value(form, k) for k in ("n", "budget", "income", "amount", "date", "days")
        }
        if not form_csrf_ok(form, settings, token):
            return render(
                visit,
                "arrange.html",
                settings,
                403,
                error=refusal(visit.language, "csrf"),
                values=values,
                **context,
            )
        if kind in NEEDS_CODE and not code_verified(verified, settings, visit, clock):
            chosen = {k: values[k] for k in ("n", "budget", "income") if values[k]}
            back = f"/a/{quote(ref)}/{kind}" + (f"?{urlencode(chosen)}" if chosen else "")
            return gate(visit, back)
        currency = account.currency

        def money(key: str) -> int | None:
            return to_minor(values[key], currency) if values[key] else None

        def day(key: str) -> dt.date | None:
            if not values[key]:
                return None
            try:
                return dt.date.fromisoformat(values[key][:10])
            except ValueError as exc:
                raise BadForm("choose a date", reason="date_format") from exc

        arrangement_flows.make(
            session,
            account,
            kind,
            amount_minor=money("amount"),
            on=day("date"),
            instalments=int(values["n"]) if values["n"].isdigit() else None,
            monthly_budget=money("budget"),
            monthly_income=money("income"),
            days=int(values["days"]) if values["days"].isdigit() else None,
            made_by="debtor",
            channel="portal",
            clock=clock,
        )
    except (RecoupError, ValueError) as exc:
        status, message = failure(exc, visit.language)
        return render(
            visit, "arrange.html", settings, status, error=message, values=values, **context
        )
    return RedirectResponse(visit.url("", done=kind), status_code=303, headers=HEADERS)


# The one-time code -------------------------------------------------------------------------


def _safe_next(next_path: str | None) -> str:
    """Only this link's own pages: never an open redirect."""
    path = next_path or ""
    if not path.startswith("/") or path.startswith("//") or "\\" in path or ".." in path:
        return ""
    return path


@router.get("/p/{token}/verify", response_class=HTMLResponse)
def verify_page(
    token: str,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    lang: str | None = None,
    next: str | None = None,
) -> HTMLResponse:
    visit = open_visit(session, token, settings, clock, lang)
    if isinstance(visit, HTMLResponse):
        return visit
    return _verify_view(session, visit, settings, _safe_next(next))


def _verify_view(
    session: SessionDep,
    visit: Visit,
    settings: Settings,
    next_path: str,
    *,
    status: int = 200,
    sent: bool = False,
    error: str | None = None,
) -> HTMLResponse:
    address = arrangement_service.code_address(session, visit.customer.id)
    return render(
        visit,
        "verify.html",
        settings,
        status,
        to=address[1] if address else None,
        next_path=next_path,
        sent=sent,
        error=error,
    )


@router.post("/p/{token}/code", response_class=HTMLResponse)
def send_code(
    token: str,
    body: Body,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    lang: str | None = None,
) -> HTMLResponse:
    visit = open_visit(session, token, settings, clock, lang)
    if isinstance(visit, HTMLResponse):
        return visit
    try:
        form = read_form(body)
    except BadForm as exc:
        return _verify_view(
            session, visit, settings, "", status=400, error=failure(exc, visit.language)[1]
        )
    next_path = _safe_next(form_value(form, "next"))
    if not form_csrf_ok(form, settings, token):
        return _verify_view(
            session, visit, settings, next_path, status=403, error=refusal(visit.language, "csrf")
        )
    try:
        arrangement_service.request_code(
            session,
            visit.customer.id,
            purpose="portal",
            key=settings.link_signing_keys[0],
            clock=clock,
        )
    except RecoupError as exc:
        status, message = failure(exc, visit.language)
        return _verify_view(session, visit, settings, next_path, status=status, error=message)
    return _verify_view(session, visit, settings, next_path, sent=True)


@router.post("/p/{token}/verify", response_model=None)
def check_code(
    token: str,
    body: Body,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    lang: str | None = None,
) -> HTMLResponse | RedirectResponse:
    visit = open_visit(session, token, settings, clock, lang)
    if isinstance(visit, HTMLResponse):
        return visit
    try:
        form = read_form(body)
    except BadForm as exc:
        return _verify_view(
            session, visit, settings, "", status=400, error=failure(exc, visit.language)[1]
        )
    next_path = _safe_next(form_value(form, "next"))
    if not form_csrf_ok(form, settings, token):
        return _verify_view(
            session, visit, settings, next_path, status=403, error=refusal(visit.language, "csrf")
        )
    good = arrangement_service.verify_code(
        session,
        visit.customer.id,
        form_value(form, "code")[:12],
        keys=settings.link_signing_keys,
        clock=clock,
    )
    if not good:
        t_error = "code_wrong"
        return _verify_view(session, visit, settings, next_path, status=403, error=t_error)
    response = RedirectResponse(visit.url(next_path), status_code=303, headers=HEADERS)
    response.set_cookie(
        VERIFIED,
        verified_token(settings.link_signing_keys[0], visit.customer.id, now=clock.now()),
        max_age=int(VERIFIED_LIFETIME.total_seconds()),
        path=f"/p/{token}",
        secure=True,
        httponly=True,
        samesite="strict",
    )
    return response


# Preferences ------------------------------------------------------------------------------


# Electronic channels a debtor can consent to in the portal; offered where a rule pack of their
# jurisdiction asks for consent on the channel (`kind: consent`, e.g. Reg F 1006.6(d)), for the
# collector role of any of their open accounts: the guard asks an agency's consent by the third
# party's packs, so the debtor must be able to give it here.
CONSENT_CHANNELS = ("sms", "email", "push", "in_app")


def _consent_channels(session: SessionDep, customer: Customer) -> tuple[str, ...]:
    guard = deployment_guard(get_settings().compliance_house_file)
    roles = {
        COLLECTOR_ROLE.get(a.collector, "creditor")
        for a in AccountRepository(session).open_of_customer(customer.id)
    } or {"creditor"}
    asked = {
        c
        for role in sorted(roles)
        for r in guard.rules_for(customer.jurisdiction, role)
        if isinstance(r, ConsentRule) and role in r.collectors
        for c in r.channels
    }
    return tuple(c for c in CONSENT_CHANNELS if c in asked)


def _consents_in_force(session: SessionDep, visit: Visit, now: dt.datetime) -> dict[str, Any]:
    """The debtor's electronic consents in force, by channel."""
    return {
        c.channel: c
        for c in privacy_service.consents_of(session, visit.customer.id)
        if c.purpose == "electronic" and c.channel and privacy_service.in_force(c, now)
    }


def _save_consents(
    session: SessionDep, visit: Visit, form: dict[str, list[str]], clock: Clock
) -> None:
    """Give or withdraw, per channel offered, what the form's `consent` boxes say; the evidence
    names the portal and the link (a digest of it, never the link itself)."""
    wanted = set(form.get("consent", []))
    held = _consents_in_force(session, visit, clock.now())
    link_id = hashlib.sha256(visit.token.encode()).hexdigest()[:12]
    for channel in _consent_channels(session, visit.customer):
        if channel in wanted and channel not in held:
            privacy_service.record_consent(
                session,
                visit.customer.id,
                purpose="electronic",
                channel=channel,
                evidence=f"portal, link {link_id} (contact {visit.link.contact_id})",
                source="portal",
                actor=f"portal:{link_id}",
                clock=clock,
            )
        elif channel not in wanted and channel in held:
            privacy_service.withdraw_consent(
                session, held[channel].id, actor=f"portal:{link_id}", clock=clock
            )


def _preferences_context(session: SessionDep, visit: Visit, now: dt.datetime) -> dict[str, Any]:
    held = contact_flows.preferences_of(session, visit.customer.id)
    return {
        "consent_channels": _consent_channels(session, visit.customer),
        "consents": _consents_in_force(session, visit, now),
        "channels": contact_flows.PREFERENCE_CHANNELS,
        "allowed": held.allowed,
        "quiet_from": held.quiet_from,
        "quiet_to": held.quiet_to,
        "preferred_from": held.preferred_from,
        "preferred_to": held.preferred_to,
        "current_language": visit.customer.preferred_language,
    }


@router.get("/p/{token}/preferences", response_model=None)
def preferences_page(
    token: str,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    verified: Annotated[str | None, Cookie(alias=VERIFIED)] = None,
    lang: str | None = None,
) -> HTMLResponse | RedirectResponse:
    visit = verified_visit(session, token, settings, clock, lang, verified, "/preferences")
    if not isinstance(visit, Visit):
        return visit
    return render(
        visit, "preferences.html", settings, **_preferences_context(session, visit, clock.now())
    )


@router.post("/p/{token}/preferences", response_model=None)
def preferences_save(
    token: str,
    body: Body,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    verified: Annotated[str | None, Cookie(alias=VERIFIED)] = None,
    lang: str | None = None,
) -> HTMLResponse | RedirectResponse:
    visit = verified_visit(session, token, settings, clock, lang, verified, "/preferences")
    if not isinstance(visit, Visit):
        return visit
    try:
        form = read_form(body)
        if not form_csrf_ok(form, settings, token):
            return render(
                visit,
                "preferences.html",
                settings,
                403,
                error=refusal(visit.language, "csrf"),
                **_preferences_context(session, visit, clock.now()),
            )
        language = form_value(form, "language") or None
        if language is not None and language not in LANGUAGES:
            raise BadForm(f"{language!r} is not a language we write in", reason="language")
        channels = set(form.get("channel", [])) & set(contact_flows.PREFERENCE_CHANNELS)

        def window(prefix: str, what: str) -> tuple[int, int] | None:
            start, end = form_value(form, f"{prefix}_from"), form_value(form, f"{prefix}_to")
            return contact_flows.window(start or None, end or None, what)

        contact_flows.set_preferences(
            session,
            visit.customer.id,
            language=language,
            channels=channels,
            quiet=window("quiet", "quiet hours"),
            preferred=window("preferred", "preferred window"),
            source="portal",
            clock=clock,
        )
        _save_consents(session, visit, form, clock)
    except (RecoupError, ValueError) as exc:
        status, message = failure(exc, visit.language)
        return render(
            visit,
            "preferences.html",
            settings,
            status,
            error=message,
            **_preferences_context(session, visit, clock.now()),
        )
    return RedirectResponse(visit.url("", done="preferences"), status_code=303, headers=HEADERS)


# Disputes, hardship and complaints ---------------------------------------------------------


def _help_context(session: SessionDep, visit: Visit) -> dict[str, Any]:
    accounts = (
        a.external_ref for a in AccountRepository(session).open_of_customer(visit.customer.id)
    )
    return {"reasons": case_flows.REASONS, "accounts": list(accounts)}


@router.get("/p/{token}/help", response_class=HTMLResponse)
def help_page(
    token: str,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    lang: str | None = None,
    kind: str | None = None,
) -> HTMLResponse:
    visit = open_visit(session, token, settings, clock, lang)
    if isinstance(visit, HTMLResponse):
        return visit
    chosen = kind if kind in case_flows.REASONS else "dispute"
    return render(visit, "help.html", settings, chosen=chosen, **_help_context(session, visit))


@router.post("/p/{token}/help", response_model=None)
def help_send(
    token: str,
    body: Body,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    lang: str | None = None,
) -> HTMLResponse | RedirectResponse:
    """No code is asked: raising a dispute or hardship must be easy, and it only pauses."""
    visit = open_visit(session, token, settings, clock, lang)
    if isinstance(visit, HTMLResponse):
        return visit
    chosen = "dispute"
    try:
        form = read_form(body)
        chosen = (
            form_value(form, "kind") if form_value(form, "kind") in case_flows.REASONS else chosen
        )
        if not form_csrf_ok(form, settings, token):
            return render(
                visit,
                "help.html",
                settings,
                403,
                error=refusal(visit.language, "csrf"),
                chosen=chosen,
                **_help_context(session, visit),
            )
        case = case_flows.open_case(
            session,
            visit.customer.id,
            kind=form_value(form, "kind"),
            reason=form_value(form, "reason"),
            text=form_value(form, "text") or None,
            account_ref=form_value(form, "account") or None,
            opened_by="debtor",
            channel="portal",
            clock=clock,
        )
    except (RecoupError, ValueError) as exc:
        status, message = failure(exc, visit.language)
        return render(
            visit,
            "help.html",
            settings,
            status,
            error=message,
            chosen=chosen,
            **_help_context(session, visit),
        )
    done = "complaint" if case.kind == "complaint" else "case"
    return RedirectResponse(visit.url("", done=done), status_code=303, headers=HEADERS)


# My data ------------------------------------------------------------------------------------


# The law that gives a debtor the right to an explanation and a person's review of automated
# decisions, by country, as "my data" cites it; elsewhere the page offers the same without a law.
AUTOMATED_RIGHTS = {
    "CN": "automated_rights_CN",  # PIPL art. 24
    **dict.fromkeys(("GB", "IE", "NL", "GR"), "automated_rights_GDPR"),  # (UK) GDPR art. 22
}


@router.get("/p/{token}/data", response_model=None)
def my_data(
    token: str,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    verified: Annotated[str | None, Cookie(alias=VERIFIED)] = None,
    lang: str | None = None,
    received: str | None = None,
) -> HTMLResponse | RedirectResponse:
    """What we hold, what we sent, the consents, and who viewed the data, when and why: the
    customer's own export (PIPL art. 45, GDPR art. 15), after a code."""
    visit = verified_visit(session, token, settings, clock, lang, verified, "/data")
    if not isinstance(visit, Visit):
        return visit
    return _data_view(session, visit, settings, clock, received=received == "1")


def _data_view(
    session: SessionDep,
    visit: Visit,
    settings: Settings,
    clock: Clock,
    *,
    status: int = 200,
    error: str | None = None,
    received: bool = False,
) -> HTMLResponse:
    document = privacy_service.export(
        session,
        visit.customer.id,
        actor="customer",
        reason="the customer read their own data in the portal",
        clock=clock,
    )
    decisions = privacy_service.automated_decisions(
        session, visit.customer.id, language=visit.language
    )
    locale = LANGUAGES[visit.language]
    customer = visit.customer
    zone = ZoneInfo((customer.timezones or jurisdiction_zones(customer.jurisdiction))[0])

    def local(iso: str) -> dt.datetime:
        at = dt.datetime.fromisoformat(iso)
        return (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(zone)

    def moment(iso: str) -> str:
        """A stored UTC time as the debtor's own clock reads it, in the page's language."""
        at = local(iso)
        return (
            f"{format_date(at, 'medium', locale=locale)} {format_time(at, 'short', locale=locale)}"
        )

    def day(iso: str) -> str:
        return str(format_date(local(iso), "medium", locale=locale))

    country = customer.jurisdiction.split("-")[0].upper()
    return render(
        visit,
        "data.html",
        settings,
        status,
        automated_rights=AUTOMATED_RIGHTS.get(country, "automated_rights"),
        doc=document,
        decisions=decisions,
        pct=lambda v: format_percent(v, format="#,##0%", locale=locale),
        moment=moment,
        day=day,
        review_max=case_flows.MAX_REVIEW_TEXT,
        received=received,
        error=error,
    )


@router.post("/p/{token}/data/review", response_model=None)
def ask_review(
    token: str,
    body: Body,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    verified: Annotated[str | None, Cookie(alias=VERIFIED)] = None,
    lang: str | None = None,
) -> HTMLResponse | RedirectResponse:
    """Ask a person to review the automated decisions about an account (PIPL art. 24). Asking
    again while the review is open opens nothing new; either way the page shows the request as
    received. A bad form (no CSRF field, words too long, an account not theirs) is a 4xx."""
    visit = verified_visit(session, token, settings, clock, lang, verified, "/data")
    if not isinstance(visit, Visit):
        return visit
    try:
        form = read_form(body)
        if not form_csrf_ok(form, settings, token):
            return _data_view(
                session, visit, settings, clock, status=403, error=refusal(visit.language, "csrf")
            )
        case_flows.request_review(
            session,
            visit.customer.id,
            account_ref=form_value(form, "account") or None,
            text=form_value(form, "text") or None,
            opened_by="debtor",
            channel="portal",
            clock=clock,
        )
    except (RecoupError, ValueError) as exc:
        status, message = failure(exc, visit.language)
        return _data_view(session, visit, settings, clock, status=status, error=message)
    return RedirectResponse(
        visit.url("/data", received="1") + "#automated", status_code=303, headers=HEADERS
    )
