"""What every console page shares: who is signed in (`page_for`), the page's language, rendering
(`render`), a posted form with its anti-forgery field checked (`read_form`), and the redirect after
a POST (`redirect`).

The console signs in with the API's staff sessions (the same cookie, the same
`identity.service`), so a page and the API call it mirrors see the same person with the same
permissions. Every route asks for one permission through `page_for`; a route that changes something
reads its form through `read_form` first, which refuses a missing or wrong CSRF field (a 403 page)
before the route does anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl, quote

import yaml
from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from recoup.config import Settings
from recoup.http.deps import ClockDep, SessionDep, SettingsDep
from recoup.identity import service as identity_service
from recoup.identity.auth import SESSION_COOKIE
from recoup.identity.permissions import Permission
from recoup.identity.service import Principal
from recoup.kit.errors import NotAuthenticated, ValidationFailed
from recoup.kit.money import format_money

LANGUAGES = {"zh-CN": "zh_Hans_CN", "en": "en_US"}
LANGUAGE_NAMES = {"zh-CN": "中文", "en": "English"}
LANGUAGE_COOKIE = "recoup_console_lang"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
FORM_FIELDS = 200  # more fields than any console form has
FORM_BYTES = 256 * 1024  # a policy's YAML (the largest field) and then some

HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
}


@dataclass(frozen=True)
class StaffPage:
    """The signed-in staff member a page is for, and how to speak to them."""

    principal: Principal
    user_id: int
    display_name: str
    lang: str
    csrf: str

    @property
    def locale(self) -> str:
        return LANGUAGES[self.lang]

    def can(self, permission: Permission | str) -> bool:
        return Permission(permission) in self.principal.permissions


class SignInNeeded(Exception):
    """No staff session (or an ended one): a page goes to the sign-in page, a POST is a 401."""


class PageForbidden(Exception):
    def __init__(self, staff: StaffPage, permission: Permission) -> None:
        super().__init__(f"{staff.principal.actor} lacks the {permission} permission")
        self.staff = staff
        self.permission = permission


class CsrfRefused(Exception):
    """A state change without this session's anti-forgery field."""


# --- language ------------------------------------------------------------------------------------


def language_of(request: Request) -> str:
    """The page's language: `?lang=`, then the console's language cookie, then Accept-Language."""
    for given in (request.query_params.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if given in LANGUAGES:
            return given
    accept = request.headers.get("accept-language", "")[:200].lower()
    return "zh-CN" if accept.startswith("zh") else "en"


@lru_cache(maxsize=1)
def texts() -> dict[str, dict[str, str]]:
    """Every area's words (`text/<area>.yaml`), keyed `<area>.<key>`, per language."""
    merged: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
    for entry in sorted(resources.files("recoup.console").joinpath("text").iterdir(), key=str):
        if not entry.name.endswith(".yaml"):
            continue
        area = entry.name.removesuffix(".yaml")
        data = yaml.safe_load(entry.read_text(encoding="utf-8")) or {}
        for lang in LANGUAGES:
            for key, value in (data.get(lang) or {}).items():
                merged[lang][f"{area}.{key}"] = str(value)
    return merged


def translator(lang: str) -> Any:
    words = texts()[lang]

    def t(key: str, **values: Any) -> str:
        text = words.get(key, key)
        return text.format(**values) if values else text

    return t


# --- who is signed in ----------------------------------------------------------------------------


def csrf_token(settings: Settings, session_token: str) -> str:
    """The session's anti-forgery field: bound to the session, so no other page can post one."""
    digest = hashlib.sha256(session_token.encode()).digest()
    return hmac.new(
        settings.link_signing_keys[0], b"console-csrf:" + digest, hashlib.sha256
    ).hexdigest()[:40]


class PageFor:
    """Dependency: the signed-in staff member, who must hold `permission` (None: any staff)."""

    def __init__(self, permission: Permission | None) -> None:
        self.permission = permission

    def __call__(
        self, request: Request, session: SessionDep, clock: ClockDep, settings: SettingsDep
    ) -> StaffPage:
        token = request.cookies.get(SESSION_COOKIE)
        if not token or len(token) > 200:
            raise SignInNeeded()
        try:
            user = identity_service.authenticate_session(session, token, clock=clock)
        except NotAuthenticated as exc:
            raise SignInNeeded() from exc
        principal = identity_service.staff_principal(user)
        staff = StaffPage(
            principal=principal,
            user_id=user.id,
            display_name=user.display_name,
            lang=language_of(request),
            csrf=csrf_token(settings, token),
        )
        request.state.principal = principal
        request.state.staff = staff
        if self.permission is not None and not principal.can(self.permission):
            raise PageForbidden(staff, self.permission)
        return staff


def page_for(permission: Permission | None) -> PageFor:
    return PageFor(permission)


def permission_of(dependency: Any) -> Permission | bool | None:
    """The permission a console route's dependency asks (None: any staff); False: not a page guard."""
    return dependency.permission if isinstance(dependency, PageFor) else False


# --- forms ---------------------------------------------------------------------------------------


class Form(dict[str, str]):
    """A posted form: each field's last value, and `getlist` for fields sent more than once."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        super().__init__(pairs)
        self.lists: dict[str, list[str]] = {}
        for key, value in pairs:
            self.lists.setdefault(key, []).append(value)

    def getlist(self, key: str) -> list[str]:
        return self.lists.get(key, [])


def parse_form(body: bytes) -> Form:
    """A urlencoded body, bounded; text no browser would send is a 422 naming what is wrong."""
    if len(body) > FORM_BYTES:
        raise ValidationFailed(f"the form is larger than {FORM_BYTES // 1024} KiB")
    try:
        pairs = parse_qsl(
            body.decode("utf-8", "strict"),
            keep_blank_values=True,
            max_num_fields=FORM_FIELDS,
            strict_parsing=False,
        )
    except UnicodeDecodeError as exc:
        raise ValidationFailed("the form is not UTF-8 text") from exc
    except ValueError as exc:
        raise ValidationFailed(f"the form has more than {FORM_FIELDS} fields") from exc
    for key, value in pairs:
        if "\x00" in key or "\x00" in value:
            raise ValidationFailed(f"the field {key[:40]!r} holds a NUL character")
    return Form(pairs)


async def read_form(request: Request, staff: StaffPage) -> Form:
    """The posted form, after its anti-forgery field (or htmx's header) is checked."""
    form = parse_form(await request.body())
    given = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(given.encode("utf-8", "replace"), staff.csrf.encode()):
        raise CsrfRefused()
    return form


def redirect(url: str) -> RedirectResponse:
    """After a POST that worked: the page to show (post/redirect/get)."""
    return RedirectResponse(url, status_code=303, headers=HEADERS)


def local_path(target: str | None, default: str = "/console") -> str:
    """A `next=` target kept inside the console (never another site: no open redirect)."""
    if not target or not target.startswith("/console") or "//" in target or "\\" in target:
        return default
    return target if len(target) <= 500 else default


# --- rendering -----------------------------------------------------------------------------------

# (path, text key, permission; None: every staff member)
NAV: tuple[tuple[str, str, Permission | None], ...] = (
    ("/console/work", "common.nav_work", Permission.tasks_work),
    ("/console/queues", "common.nav_queues", Permission.tasks_manage),
    ("/console/approvals", "common.nav_approvals", Permission.arrangements_approve),
    ("/console/cases", "common.nav_cases", Permission.cases_resolve),
    ("/console/replies", "common.nav_replies", Permission.replies_handle),
    ("/console/conversations", "common.nav_conversations", Permission.conversations_handle),
    ("/console/outbox", "common.nav_outbox", Permission.contacts_retry),
    ("/console/dashboard", "common.nav_dashboard", Permission.analytics_read),
    ("/console/strategy", "common.nav_strategy", Permission.policies_write),
    ("/console/templates", "common.nav_templates", Permission.templates_write),
    ("/console/articles", "common.nav_articles", Permission.articles_write),
    ("/console/voice", "common.nav_voice", Permission.analytics_read),
    ("/console/models", "common.nav_models", Permission.models_read),
    ("/console/compliance", "common.nav_compliance", Permission.audit_read),
    ("/console/admin/staff", "common.nav_admin", Permission.staff_manage),
)


def nav_for(staff: StaffPage | None, path: str) -> list[dict[str, Any]]:
    if staff is None:
        return []
    return [
        {"href": href, "key": key, "active": path.startswith(href)}
        for href, key, permission in NAV
        if permission is None or staff.principal.can(permission)
    ]


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("recoup.console", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def formatters(lang: str, settings: Settings) -> dict[str, Any]:
    locale = Locale.parse(LANGUAGES[lang])
    zone = settings.business_zone

    def money(amount_minor: int | None, currency: str) -> str:
        return "—" if amount_minor is None else format_money(amount_minor, currency, locale)

    def date(value: dt.date | None) -> str:
        return "—" if value is None else str(format_date(value, format="medium", locale=locale))

    def when(value: dt.datetime | None) -> str:
        if value is None:
            return "—"
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return str(format_datetime(value, format="medium", tzinfo=zone, locale=locale))

    def hour(value: dt.datetime | None) -> str:
        """The time of day alone, in the business zone (a task's window on the day shown)."""
        if value is None:
            return "—"
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return str(format_time(value, format="short", tzinfo=zone, locale=locale))

    return {"money": money, "money_text": money, "date": date, "when": when, "hour": hour}


def render(
    request: Request,
    staff: StaffPage | None,
    template: str,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page (or, asked by htmx, whatever fragment template the route chose)."""
    lang = staff.lang if staff else language_of(request)
    settings: Settings = request.app.state.settings
    html = (
        environment()
        .get_template(template)
        .render(
            request_path=request.url.path,
            here=quote(
                str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")
            ),
            lang=lang,
            languages=LANGUAGE_NAMES,
            t=translator(lang),
            staff=staff,
            csrf=staff.csrf if staff else "",
            nav=nav_for(staff, request.url.path),
            htmx=request.headers.get("hx-request") == "true",
            vendor=vendor_assets(),
            **formatters(lang, settings),
            **context,
        )
    )
    return HTMLResponse(html, status_code=status, headers={**HEADERS, **(headers or {})})


@lru_cache(maxsize=1)
def vendor_assets() -> frozenset[str]:
    """The browser libraries `scripts/assets` installed (the pages work without them)."""
    folder = resources.files("recoup.console").joinpath("static", "vendor")
    if not folder.is_dir():
        return frozenset()
    return frozenset(entry.name for entry in folder.iterdir())
