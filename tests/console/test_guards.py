"""The console's guards, over every console route the app serves (so over the pages every area
adds): a permission declared on each route, each role against each page, CSRF on each state change,
and each form fuzzed for 5xx. The routes are read from `app.routes`, never listed by hand; only the
knowingly open ones are (`OPEN`)."""

from __future__ import annotations

import datetime as dt
import re
from importlib import resources
from typing import Any

import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import Mount

from recoup.cases import flows as case_flows
from recoup.console.base import NAV, PageFor
from recoup.identity import service as identity_service
from recoup.identity.permissions import MATRIX, Role
from recoup.kit.clock import SettableClock
from recoup.models import Model
from tests.console.conftest import ConsoleClient
from tests.factories import add_bill, create_account, create_customer
from tests.risk.seeding import add_model

# Console routes that deliberately ask no permission, and why.
OPEN: dict[tuple[str, str], str] = {
    ("GET", "/console/sign-in"): "the sign-in form",
    ("POST", "/console/sign-in"): "signing in (its own double-submit token, rate-limited)",
    ("GET", "/console/language"): "the language switch: a preference cookie, nothing else",
    ("GET", "/console/set-password"): "a new staff member's set-password form (no session yet)",
    ("POST", "/console/set-password"): "the one-time code is the credential (with a form token)",
}
# Mounted, not routed: the console's static files (CSS, JS, the vendored libraries).
STATIC = "/console/static"
# POST routes the fuzzer leaves out, and why (each still has its CSRF check above).
NOT_FUZZED = {
    "/console/sign-out": "ends the fuzzer's own session (its CSRF check is tested above)",
}
EXAMPLES = 12  # bodies per POST route: enough to meet every field's odd values, under a minute


def console_routes(app: FastAPI) -> list[tuple[str, str, Any]]:
    """Every (method, path, route) under /console, including those of included routers (FastAPI
    keeps an included router as one route and resolves its routes lazily)."""
    found: list[tuple[str, str, Any]] = []
    for route in app.routes:
        effective = getattr(route, "effective_route_contexts", None)
        routes = list(effective() if callable(effective) else effective or []) or [route]
        for item in routes:
            path = getattr(item, "path", "")
            if path.startswith("/console") and hasattr(item, "dependant"):
                found += [(method, path, item) for method in sorted(item.methods or [])]
    return found


def guard_of(route: Any) -> PageFor | None:
    """The route's `page_for(...)` dependency, wherever it sits in its dependencies."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        if isinstance(dependant.call, PageFor):
            return dependant.call
        pending.extend(dependant.dependencies)
    return None


def allowed(role: Role, guard: PageFor) -> bool:
    return guard.permission is None or guard.permission in MATRIX[role]


def holder(guard: PageFor) -> Role:
    """A role holding the route's permission."""
    return next(role for role in Role if allowed(role, guard))


PARAM = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")


def concrete(path: str, ids: dict[str, int]) -> str:
    """The path with seeded ids (a customer, an account, a case, a staff member, a proposal, a
    risk model) or, for parameters nothing seeds, a number no row has."""
    return PARAM.sub(lambda m: str(ids.get(m[1], 987654)), path)


@pytest.fixture
def seeded(sessions: sessionmaker[Session], clock: SettableClock) -> dict[str, int]:
    with sessions() as session:
        customer = create_customer(session, clock)
        account = create_account(session, clock, customer=customer)
        add_bill(session, clock, account, clock.now().date() - dt.timedelta(days=10), 30_000)
        case = case_flows.open_case(
            session, customer.id, kind="complaint", reason="rude", text=None, account_ref=None,
            opened_by="staff:agent-0", channel="agent", clock=clock,
        )  # fmt: skip
        spare = identity_service.create_staff(
            session, username="guard-spare", display_name="Spare", role=Role.auditor,
            password="console-password-1", clock=clock,
        )  # fmt: skip
        proposer = identity_service.staff_principal(
            identity_service.create_staff(
                session,
                username="guard-proposer",
                display_name="Proposer",
                role=Role.administrator,
                password="console-password-1",
                clock=clock,
            )
        )
        proposal = identity_service.propose_staff(
            session, username="guard-proposed", display_name="Proposed", role=Role.agent,
            proposer=proposer, clock=clock,
        )  # fmt: skip
        model = add_model(session, clock, kind="p_pay", horizon_days=30, trained_by="staff:lin")
        session.commit()
        ids = {
            "model_id": model.id,
            "customer_id": customer.id,
            "account_id": account.id,
            "case_id": case.id,
            "staff_id": spare.id,
            "proposal_id": proposal.id,
        }
    return ids


def rows(session: Session) -> dict[str, int]:
    """Every table's row count: a refused request must change none."""
    session.expire_all()
    return {
        name: session.scalar(select(func.count()).select_from(table)) or 0
        for name, table in Model.metadata.tables.items()
    }


class TestDeclared:
    def test_every_console_route_declares_a_permission_or_is_knowingly_open(
        self, app: FastAPI
    ) -> None:
        """Catches a page added without `page_for(...)` (anyone signed in or not would see it)."""
        routes = console_routes(app)
        assert len(routes) >= 5
        undeclared = [
            (method, path)
            for method, path, route in routes
            if guard_of(route) is None and (method, path) not in OPEN
        ]
        assert undeclared == []
        served = {(method, path) for method, path, _ in routes}
        assert [key for key in OPEN if key not in served] == [], "an open route no longer served"

    def test_open_routes_really_ask_nothing_and_static_is_only_files(self, app: FastAPI) -> None:
        guarded_open = [
            (method, path)
            for method, path, route in console_routes(app)
            if (method, path) in OPEN and guard_of(route) is not None
        ]
        assert guarded_open == []  # listed as open but guarded: the list is stale
        mounts = [r for r in app.routes if isinstance(r, Mount) and r.path.startswith("/console")]
        assert [m.path for m in mounts] == [STATIC]

    def test_each_section_in_the_navigation_asks_the_permission_its_link_is_shown_for(
        self, app: FastAPI
    ) -> None:
        """Catches a link shown to people its page refuses (or hidden from people it serves)."""
        guards = {
            path: guard
            for method, path, route in console_routes(app)
            if method == "GET" and (guard := guard_of(route)) is not None
        }
        differing = [
            (href, permission, guards[href].permission)
            for href, _key, permission in NAV
            if href in guards and guards[href].permission != permission
        ]
        assert differing == []


class TestRolesAgainstPages:
    def test_every_role_against_every_page(
        self, app: FastAPI, console: ConsoleClient, seeded: dict[str, int]
    ) -> None:
        """A role without the page's permission gets the 403 page (HTML); with it, never a 403 nor
        a 5xx; nobody signed in goes to sign-in. Catches a guard that does not refuse (tried:
        `PageFor` not raising `PageForbidden`), a page that refuses a role that may open it (a
        second check inside the route asking another permission), and a page that breaks for a
        role that may open it (an id or a row it does not expect)."""
        pages = [
            (path, route, guard)
            for method, path, route in console_routes(app)
            if method == "GET" and (guard := guard_of(route)) is not None
        ]
        assert pages
        console.cookies.clear()
        for path, _route, _guard in pages:
            answer = console.get(concrete(path, seeded), follow_redirects=False)
            assert answer.status_code == 303, (path, answer.status_code)
            assert answer.headers["location"].startswith("/console/sign-in?next="), path
        checked = 0
        for role in Role:
            console.sign_in(role)
            for path, _route, guard in pages:
                url = concrete(path, seeded)
                answer = console.get(url, follow_redirects=False)
                if allowed(role, guard):
                    assert answer.status_code != 403, (role, path)
                    assert answer.status_code < 500, (role, path, answer.text[:500])
                else:
                    assert answer.status_code == 403, (role, path, answer.status_code)
                    assert answer.headers["content-type"].startswith("text/html"), (role, path)
                checked += 1
        assert checked == len(pages) * len(Role)


class TestCsrf:
    def test_every_state_change_refuses_a_missing_or_wrong_csrf_field_and_changes_nothing(
        self,
        app: FastAPI,
        console: ConsoleClient,
        session: Session,
        seeded: dict[str, int],
    ) -> None:
        """Catches a POST route that never calls `read_form` (a forged form from another site
        would change something: the route answers 303, not 403), and one whose refusal keeps a
        change (a route acting before `read_form` is harmless only because the refusal rolls the
        request's transaction back: the row counts check that it does)."""
        posts = [
            (path, guard)
            for method, path, route in console_routes(app)
            if method == "POST" and (guard := guard_of(route)) is not None
        ]
        assert posts
        body = dict.fromkeys(FIELD_NAMES, "guard value 12345")
        for path, guard in posts:
            console.sign_in(holder(guard))
            url = concrete(path, seeded)
            before = rows(session)
            for forged in ({}, {"csrf": "0" * 40}, {"csrf": console.csrf[:-1] + "x"}):
                answer = console.post(url, data={**body, **forged}, follow_redirects=False)
                assert answer.status_code == 403, (path, forged, answer.status_code)
                assert answer.headers["content-type"].startswith("text/html"), path
            # htmx sends the token as a header: a wrong one is refused the same way.
            answer = console.post(
                url, data=body, headers={"X-CSRF-Token": "0" * 40}, follow_redirects=False
            )
            assert answer.status_code == 403, (path, "header", answer.status_code)
            console.cookies.clear()
            anonymous = console.post(url, data={**body, "csrf": "0" * 40}, follow_redirects=False)
            assert anonymous.status_code == 401, (path, anonymous.status_code)
            after = rows(session)
            changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
            # Signing in (above) writes a session and its audit entries; nothing else may change.
            changed.pop("staff_sessions", None)
            assert changed == {}, (path, changed)


def template_forms() -> list[tuple[str, set[str]]]:
    """(action with `{{ ... }}` as a wildcard, field names) of every form in the templates."""
    forms: list[tuple[str, set[str]]] = []
    folder = resources.files("recoup.console").joinpath("templates")
    stack = [folder]
    while stack:
        for entry in stack.pop().iterdir():
            if entry.is_dir():
                stack.append(entry)
            elif entry.name.endswith(".html"):
                text = entry.read_text(encoding="utf-8")
                for form in re.finditer(r"<form\b([^>]*)>(.*?)</form>", text, re.S):
                    action = re.search(r'(?:hx-post|action)="([^"]*)"', form[1])
                    if action:
                        names = set(re.findall(r'\bname="([A-Za-z0-9_\-\[\]]+)"', form[2]))
                        forms.append((action[1], names))
    return forms


FORMS = template_forms()
FIELD_NAMES = sorted({name for _, names in FORMS for name in names} - {"csrf"})


def fields_of(path: str) -> list[str]:
    """The field names of the forms posting to `path`; every template's fields when none does."""
    pattern = re.compile(
        "^" + PARAM.sub("[^/]+", re.escape(path).replace(r"\{", "{").replace(r"\}", "}")) + "$"
    )
    own: set[str] = set()
    for action, names in FORMS:
        if pattern.match(re.sub(r"\{\{.*?\}\}", "1", action)):
            own |= names
    return sorted((own or set(FIELD_NAMES)) - {"csrf"})


ODD = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=200),
    st.just("x" * 100_000),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-1",
            "1e309",
            "NaN",
            "2026-02-30",
            "9999-99-99",
            "0000-00-00",
            "2026-13-01T25:61",
            "١٢٣",
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "../../etc/passwd",
            "%00",
            "true",
            "[]",
            "{}",
        ]
    ),
)


def fuzz_one(
    console: ConsoleClient,
    path: str,
    guard: PageFor | None,
    seeded: dict[str, int],
    failures: dict[str, str],
) -> None:
    """`guard` None: an open route, fuzzed without a session."""

    def begin() -> None:
        if guard is None:
            console.cookies.clear()
        else:
            console.sign_in(holder(guard))

    begin()
    url = concrete(path, seeded)
    names = fields_of(path)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        body=st.dictionaries(
            st.one_of(st.sampled_from(names or ["x"]), st.text(min_size=1, max_size=12)),
            ODD,
            max_size=max(len(names), 1) + 2,
        ),
        ids=st.booleans(),
    )
    def exercise(body: dict[str, str], ids: bool) -> None:
        target = url if ids else concrete(path, {})
        answer = console.post(target, data={**body, "csrf": console.csrf}, follow_redirects=False)
        if answer.status_code >= 500:
            failures.setdefault(path, f"{answer.status_code} for fields {sorted(body)[:8]}")
        if answer.status_code == 401 and guard is not None:  # the route ended the session
            begin()

    exercise()


class TestFuzz:
    def test_every_console_form_fuzzed_never_answers_a_5xx(
        self, app: FastAPI, console: ConsoleClient, seeded: dict[str, int]
    ) -> None:
        """Each POST route, as a role holding its permission (an open one: without a session),
        with a valid CSRF field, gets bodies of its own form's field names (and random ones)
        holding odd values: unicode, 100,000 characters, negative and huge numbers, impossible
        dates. A 4xx naming the problem is fine; a 5xx is a bug (an unbounded number reaching the
        database, a date that raises). Catches, e.g., `int(form["reason"])` in a route (tried)."""
        posts = [
            (path, guard)
            for method, path, route in console_routes(app)
            if method == "POST" and path not in NOT_FUZZED
            for guard in [guard_of(route)]
            if guard is not None or (method, path) in OPEN
        ]
        assert any(guard is None for _, guard in posts), "the open forms are fuzzed too"
        failures: dict[str, str] = {}
        for path, guard in posts:
            fuzz_one(console, path, guard, seeded, failures)
        assert failures == {}
