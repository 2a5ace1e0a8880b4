"""The console's ground: signing in with the staff sessions, pages refused without the permission
or the CSRF field, errors as pages, both languages complete, the audited reveal, the libraries
served from this site."""

from __future__ import annotations

import re
from importlib import resources

import pytest
import yaml
from sqlalchemy.orm import Session

from recoup.audit import service as audit_service
from recoup.console.base import LANGUAGES, texts
from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from recoup.kit.masking import mask_phone
from tests.console.conftest import ConsoleClient
from tests.factories import create_customer


def test_an_anonymous_page_goes_to_sign_in_and_comes_back(console: ConsoleClient) -> None:
    answer = console.get("/console/customers/7?tab=x", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == (
        "/console/sign-in?next=%2Fconsole%2Fcustomers%2F7%3Ftab%3Dx"
    )
    page = console.get(answer.headers["location"])
    assert 'name="next" value="/console/customers/7?tab=x"' in page.text


def test_sign_in_refuses_a_wrong_password_and_a_forged_form(console: ConsoleClient) -> None:
    user = console.add_staff(Role.agent)
    page = console.get("/console/sign-in")
    token = re.search(r'name="sign_in_token" value="([^"]+)"', page.text)
    assert token
    wrong = console.post(
        "/console/sign-in",
        data={"sign_in_token": token[1], "username": user.username, "password": "nope" * 4},
    )
    assert wrong.status_code == 401
    assert "Wrong username or password" in wrong.text
    # A form posted from elsewhere carries no sign-in cookie's token (login CSRF).
    console.cookies.clear()
    forged = console.post(
        "/console/sign-in",
        data={
            "sign_in_token": "x" * 43,
            "username": user.username,
            "password": "console-password-1",
        },
    )
    assert forged.status_code == 403
    assert "recoup_session" not in console.cookies


def test_next_never_leaves_the_console(console: ConsoleClient) -> None:
    console.add_staff(Role.agent, "nextcheck")
    page = console.get("/console/sign-in?next=//evil.example/console")
    assert 'name="next" value="/console"' in page.text
    token = re.search(r'name="sign_in_token" value="([^"]+)"', page.text)
    assert token
    answer = console.post(
        "/console/sign-in",
        data={
            "sign_in_token": token[1],
            "username": "nextcheck",
            "password": "console-password-1",
            "next": "https://evil.example/",
        },
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/console"


def test_a_page_without_the_permission_is_a_403_page(console: ConsoleClient) -> None:
    console.sign_in(Role.agent)
    page = console.get("/console/customers/1/reveal")  # a POST route: 405 page
    assert page.status_code == 405
    customer_page = console.get("/console/customers/999999")
    assert customer_page.status_code == 404
    assert "Not found" in customer_page.text
    console.sign_in(Role.strategist)  # the manager reads customers but may not reveal
    refused = console.post_form("/console/customers/1/reveal", {"field": "phones", "reason": "x"})
    assert refused.status_code == 403
    assert "customers:reveal" in refused.text
    assert refused.headers["content-type"].startswith("text/html")


def test_home_lists_what_the_role_may_open(console: ConsoleClient) -> None:
    console.sign_in(Role.agent)
    home = console.get("/console")
    assert 'href="/console/work"' in home.text
    assert 'href="/console/admin/staff"' not in home.text
    console.sign_in(Role.administrator)
    assert 'href="/console/admin/staff"' in console.get("/console").text


def test_sign_out_needs_the_csrf_field_and_ends_the_session(console: ConsoleClient) -> None:
    console.sign_in(Role.auditor)
    refused = console.post("/console/sign-out", data={"csrf": "0" * 40})
    assert refused.status_code == 403
    assert console.get("/console", follow_redirects=False).status_code == 200
    console.post_form("/console/sign-out", follow_redirects=False)
    assert console.get("/console", follow_redirects=False).status_code == 303


def test_the_language_switch_and_accept_language(console: ConsoleClient) -> None:
    console.sign_in(Role.agent)
    assert "我的工作" in console.get("/console", headers={"Accept-Language": "zh-CN,zh"}).text
    console.get("/console/language?lang=en&next=/console")
    assert "My work" in console.get("/console", headers={"Accept-Language": "zh-CN"}).text
    switched = console.get(
        "/console/language?lang=zh-CN&next=https://evil.example", follow_redirects=False
    )
    assert switched.headers["location"] == "/console"


def test_console_pages_forbid_framing_inline_scripts_and_caching(console: ConsoleClient) -> None:
    console.sign_in(Role.agent)
    page = console.get("/console")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"
    assert "<script>" not in page.text  # every script is a file from this site


def test_every_word_exists_in_both_languages_and_every_key_used_exists() -> None:
    """Catches a key added in one language only, or a template asking for a key nobody wrote."""
    folder = resources.files("recoup.console").joinpath("text")
    for entry in folder.iterdir():
        if entry.name.endswith(".yaml"):
            data = yaml.safe_load(entry.read_text(encoding="utf-8"))
            keys = [set(data[lang]) for lang in LANGUAGES]
            assert keys[0] == keys[1], f"{entry.name}: {sorted(keys[0] ^ keys[1])}"
    words = texts()["en"]
    used = re.compile(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_]+)["']\s*[,)]""")
    templates = resources.files("recoup.console").joinpath("templates")
    missing = []
    for path in _walk(templates):
        for key in used.findall(path.read_text(encoding="utf-8")):
            if key not in words:
                missing.append(f"{path.name}: {key}")
    assert not missing, missing


def _walk(folder):  # type: ignore[no-untyped-def]
    for entry in folder.iterdir():
        if entry.is_dir():
            yield from _walk(entry)
        elif entry.name.endswith(".html"):
            yield entry


def test_a_reveal_needs_a_reason_and_is_on_the_customers_access_log(
    console: ConsoleClient, session: Session, clock: SettableClock
) -> None:
    customer = create_customer(session, clock)
    session.commit()
    number = customer.phones[0].number
    masked = mask_phone(number)
    console.sign_in(Role.agent)
    page = console.get(f"/console/customers/{customer.id}")
    assert page.status_code == 200
    assert number not in page.text
    assert masked in page.text
    no_reason = console.post_form(
        f"/console/customers/{customer.id}/reveal", {"field": "phones", "reason": ""}
    )
    assert no_reason.status_code == 422
    assert "reason" in no_reason.text
    shown = console.post_form(
        f"/console/customers/{customer.id}/reveal",
        {"field": "phones", "reason": "debtor asked for a call back"},
        headers={"HX-Request": "true"},
    )
    assert shown.status_code == 200
    assert number in shown.text
    assert "<html" not in shown.text  # htmx gets the fragment
    session.expire_all()
    log = audit_service.access_log(session, customer.id)
    reveals = [e for e in log if e.kind == "reveal"]
    assert [(e.reason, e.fields) for e in reveals] == [("debtor asked for a call back", ["phones"])]


@pytest.mark.parametrize("name", ["htmx.min.js", "chart.umd.js"])
def test_the_browser_libraries_are_served_from_this_site(console: ConsoleClient, name: str) -> None:
    """scripts/assets installs them from the npm registry (scripts/test runs it)."""
    answer = console.get(f"/console/static/vendor/{name}")
    assert answer.status_code == 200, "run scripts/assets"
    assert len(answer.content) > 10_000


def test_sign_in_attempts_are_limited_per_client(console: ConsoleClient) -> None:
    """The console's form shares the API's limit (ten a minute per client address)."""
    page = console.get("/console/sign-in")
    token = re.search(r'name="sign_in_token" value="([^"]+)"', page.text)
    assert token
    codes = [
        console.post(
            "/console/sign-in",
            data={"sign_in_token": token[1], "username": "nobody", "password": "x" * 12},
        ).status_code
        for _ in range(11)
    ]
    assert codes == [401] * 10 + [429]
