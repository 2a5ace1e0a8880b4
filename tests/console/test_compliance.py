"""The compliance officer's pages: the contact audit run from the page finds a planted breach; a
contact's decision record with the customer masked; QA samples drawn and reviewed through the
page (reproducible by seed); consents recorded and withdrawn with their evidence; data-subject
requests; the audit ledger verified with its checkpoints downloadable; blocks by rule over time;
each page refused to a role without its permission, each form without its CSRF field."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from recoup.audit import service as audit_service
from recoup.contact import repository as contact_repository
from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from recoup.models import Account, Consent, ContactPlan, QaReview
from recoup.quality import service as qa_service
from tests.console.conftest import ConsoleClient
from tests.factories import add_bill, create_account, create_customer, shanghai

DAY = dt.date(2026, 6, 1)
_seq = itertools.count()


def contact_at(
    session: Session,
    account: Account,
    at: dt.datetime,
    *,
    channel: str = "sms",
    status: str = "sent",
    reasons: list[str] | None = None,
) -> ContactPlan:
    """A contact written through the contact repository, as the dispatcher records one."""
    contact = ContactPlan(
        account_id=account.id,
        customer_id=account.customer_id,
        as_of_date=at.date(),
        stage="early",
        treatment=f"planted-{next(_seq)}",
        channel=channel,
        template="reminder",
        tone="neutral",
        status=status,
        scheduled_at=at,
        reasons=reasons or [],
        purpose="collection",
        sent_at=at if status == "sent" else None,
        created_at=at,
    )
    contact_repository.add_plans(session, [contact])
    return contact


def world(sessions: sessionmaker[Session], clock: SettableClock) -> dict[str, int]:
    """A debtor named 王芳 with an overdue bill; a text sent at 23:30 in Shanghai (CN's hours end
    at 21:00: a breach), one at noon, and one blocked by the guard."""
    with sessions() as session:
        customer = create_customer(session, clock, name="王芳")
        account = create_account(session, clock, customer=customer)
        add_bill(session, clock, account, DAY - dt.timedelta(days=10), 30_000)
        late = contact_at(session, account, shanghai(DAY, 23) + dt.timedelta(minutes=30))
        noon = contact_at(session, account, shanghai(DAY, 12))
        blocked = contact_at(
            session, account, shanghai(DAY, 9), status="blocked", reasons=["base.cease:CEASE"]
        )
        session.commit()
        return {
            "customer": customer.id,
            "account": account.id,
            "late": late.id,
            "noon": noon.id,
            "blocked": blocked.id,
        }


class TestTheContactAuditFromThePage:
    def test_a_planted_breach_is_listed_with_its_rule(
        self, console: ConsoleClient, sessions: sessionmaker[Session], clock: SettableClock
    ) -> None:
        ids = world(sessions, clock)
        console.sign_in(Role.compliance_officer)
        form = console.get("/console/compliance/audit")
        assert form.status_code == 200
        assert "breach" not in form.text
        page = console.get(
            "/console/compliance/audit",
            params={"run": "1", "from": "2026-06-01", "to": "2026-06-02"},
        )
        assert page.status_code == 200, page.text
        rows = re.findall(
            r'<tr class="breach"><td[^>]*><a href="/console/compliance/contacts/(\d+)"', page.text
        )
        assert str(ids["late"]) in rows
        assert str(ids["noon"]) not in rows
        assert "hours" in page.text

    def test_the_period_is_bounded(
        self, console: ConsoleClient, sessions: sessionmaker[Session], clock: SettableClock
    ) -> None:
        console.sign_in(Role.compliance_officer)
        page = console.get(
            "/console/compliance/audit",
            params={"run": "1", "from": "2026-01-01", "to": "2026-06-01"},
        )
        assert page.status_code == 422
        assert "at most 31 days" in page.text
        bad = console.get("/console/compliance/audit", params={"run": "1", "from": "June"})
        assert bad.status_code == 422
        assert "from" in bad.text

    def test_an_agent_may_not_open_it(self, console: ConsoleClient) -> None:
        console.sign_in(Role.agent)
        assert console.get("/console/compliance/audit").status_code == 403
        assert console.get("/console/compliance").status_code == 403


class TestDecisionRecord:
    def test_the_record_with_the_customer_masked(
        self, console: ConsoleClient, sessions: sessionmaker[Session], clock: SettableClock
    ) -> None:
        ids = world(sessions, clock)
        console.sign_in(Role.auditor)
        page = console.get(f"/console/compliance/contacts/{ids['blocked']}")
        assert page.status_code == 200, page.text
        assert "base.cease:CEASE" in page.text
        assert "王芳" not in page.text  # masked
        assert "王*" in page.text
        found = console.get(
            "/console/compliance/contacts",
            params={"contact_id": ids["late"]},
            follow_redirects=False,
        )
        assert found.headers["location"] == f"/console/compliance/contacts/{ids['late']}"
        assert console.get("/console/compliance/contacts/999999").status_code == 404


class TestQaThroughThePage:
    def test_draw_review_and_reproduce(
        self, console: ConsoleClient, sessions: sessionmaker[Session], clock: SettableClock
    ) -> None:
        world(sessions, clock)
        console.sign_in(Role.compliance_officer)
        assert console.get("/console/compliance/qa").status_code == 200
        body = {"from": "2026-06-01", "to": "2026-06-02", "size": "5", "seed": "7"}
        drawn = console.post_form("/console/compliance/qa/samples", body, follow_redirects=False)
        assert drawn.status_code == 303, drawn.text
        again = console.post_form("/console/compliance/qa/samples", body, follow_redirects=False)
        with sessions() as session:
            items = session.execute(select(QaReview).order_by(QaReview.id)).scalars().all()
            first = [i.contact_id for i in items if f"/{i.sample_id}" in drawn.headers["location"]]
            second = [i.contact_id for i in items if f"/{i.sample_id}" in again.headers["location"]]
            assert first == second
            assert len(first) == 2  # the two texts sent; not the blocked one
            item = next(i for i in items if f"/{i.sample_id}" in drawn.headers["location"])
        sample_page = console.get(drawn.headers["location"])
        assert "Identified themselves" in sample_page.text
        checks = {
            "identified_self": "yes",
            "right_party_verified": "yes",
            "no_threat": "yes",
            "correct_amount": "yes",
            "within_hours": "no",
            "disclosure_given": "na",
        }
        missing = console.post_form(f"/console/compliance/qa/reviews/{item.id}", checks)
        assert missing.status_code == 422
        assert "findings" in missing.text
        forged = console.post(
            f"/console/compliance/qa/reviews/{item.id}", data={**checks, "findings": "x"}
        )
        assert forged.status_code == 403
        done = console.post_form(
            f"/console/compliance/qa/reviews/{item.id}",
            {**checks, "findings": "sent at 23:30 local"},
            follow_redirects=False,
        )
        assert done.status_code == 303
        with sessions() as session:
            stored = session.get(QaReview, item.id)
            assert stored is not None
            assert (stored.status, stored.findings) == ("failed", "sent at 23:30 local")
        listing = console.get("/console/compliance/qa")
        assert "sent at 23:30 local" in listing.text
        bad = console.post_form("/console/compliance/qa/samples", {**body, "size": "5000"})
        assert bad.status_code == 422

    def test_an_auditor_may_not_review(self, console: ConsoleClient) -> None:
        console.sign_in(Role.auditor)
        assert console.get("/console/compliance/qa").status_code == 403


class TestConsentsOnThePage:
    def test_record_and_withdraw_with_evidence(
        self, console: ConsoleClient, sessions: sessionmaker[Session], clock: SettableClock
    ) -> None:
        ids = world(sessions, clock)
        console.sign_in(Role.compliance_officer)
        url = f"/console/compliance/customers/{ids['customer']}"
        assert console.get(url).status_code == 200
        bad = console.post_form(f"{url}/consents", {"kind": "time_window", "evidence": "call 12"})
        assert bad.status_code == 422
        assert "scope.from" in bad.text
        made = console.post_form(
            f"{url}/consents",
            {
                "kind": "time_window",
                "from": "21:00",
                "to": "22:00",
                "evidence": "call recording r-77",
                "expires": "2026-12-31",
            },
            follow_redirects=False,
        )
        assert made.status_code == 303, made.text
        with sessions() as session:
            consent = session.execute(select(Consent)).scalar_one()
            assert (consent.source, consent.scope) == ("agent", {"from": "21:00", "to": "22:00"})
        page = console.get(url)
        assert "call recording r-77" in page.text
        gone = console.post_form(
            f"{url}/consents/{consent.id}/withdraw", {}, follow_redirects=False
        )
        assert gone.status_code == 303
        with sessions() as session:
            assert session.get(Consent, consent.id).withdrawn_at is not None  # type: ignore[union-attr]
        # Another customer's path does not reach this consent.
        other = console.post_form(
            f"/console/compliance/customers/{ids['customer'] + 1000}/consents/{consent.id}/withdraw",
            {},
        )
        assert other.status_code == 404


class TestDataSubjectRequests:
    def test_export_download_and_erasure_refused_while_owed(
        self, console: ConsoleClient, sessions: sessionmaker[Session], clock: SettableClock
    ) -> None:
        ids = world(sessions, clock)
        console.sign_in(Role.compliance_officer)
        export = console.post_form(
            "/console/compliance/privacy/export",
            {"customer_id": str(ids["customer"]), "reason": "access request, ticket 4411"},
        )
        assert export.status_code == 200
        assert "attachment" in export.headers["content-disposition"]
        assert export.json()["person"]["name"] == "王芳"
        erasure = console.post_form(
            "/console/compliance/privacy/erasure",
            {"customer_id": str(ids["customer"]), "reason": "erase me, e-mail of 1 June"},
        )
        assert erasure.status_code == 200
        assert "Refused" in erasure.text
        unknown = console.post_form(
            "/console/compliance/privacy/erasure", {"customer_id": "999999", "reason": "erase me"}
        )
        assert unknown.status_code == 404
        console.sign_in(Role.auditor)
        assert console.get("/console/compliance/privacy").status_code == 403


class TestLedgerAndOverview:
    def test_verify_and_download_a_checkpoint(
        self, console: ConsoleClient, sessions: sessionmaker[Session], clock: SettableClock
    ) -> None:
        world(sessions, clock)
        with sessions() as session:
            audit_service.record(
                session, actor="t", action="t.done", subject_type="t", subject_id=1, clock=clock
            )
            cp = audit_service.checkpoint(session, clock=clock)
            session.commit()
            assert cp is not None
            cp_id = cp.id
        console.sign_in(Role.auditor)
        page = console.get("/console/compliance/ledger", params={"verify": "1"})
        assert page.status_code == 200
        assert "Intact" in page.text
        document = console.get(f"/console/compliance/ledger/checkpoints/{cp_id}.json")
        assert document.status_code == 200
        signed = document.json()
        assert signed["public_key"]
        assert signed["signature"]
        assert json.loads(signed["statement"])["root"] == signed["root"]

    def test_blocks_by_rule(
        self, console: ConsoleClient, sessions: sessionmaker[Session], clock: SettableClock
    ) -> None:
        world(sessions, clock)
        console.sign_in(Role.compliance_officer)
        page = console.get("/console/compliance", params={"from": "2026-05-25", "to": "2026-06-01"})
        assert page.status_code == 200
        assert "<code>base.cease</code>" in page.text
        assert 'id="held-data"' in page.text
        week = console.get("/console/compliance", params={"by": "week", "lang": "zh-CN"})
        assert week.status_code == 200
        assert "拦截" in week.text


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
FIELDS = st.sampled_from(
    [
        "from", "to", "size", "seed", "kind", "channel", "evidence", "expires", "account",
        "customer_id", "reason", "findings", "identified_self", "no_threat", "within_hours",
    ]
)  # fmt: skip


class TestFormsNeverFail:
    """Every compliance form, posted with arbitrary fields and text: a 4xx or a page, never a 5xx."""

    def test_fuzzed_forms(
        self, console: ConsoleClient, sessions: sessionmaker[Session], clock: SettableClock
    ) -> None:
        ids = world(sessions, clock)
        console.sign_in(Role.compliance_officer)
        with sessions() as session:
            sample = qa_service.draw_sample(
                session, start=DAY, end=DAY, size=5, seed=1, actor="t", clock=clock
            )
            item = qa_service.get_sample(session, sample.id)[1][0].id
            session.commit()
        customer = ids["customer"]
        routes = [
            "/console/compliance/qa/samples",
            f"/console/compliance/qa/reviews/{item}",
            f"/console/compliance/customers/{customer}/consents",
            f"/console/compliance/customers/{customer}/consents/1/withdraw",
            "/console/compliance/privacy/export",
            "/console/compliance/privacy/erasure",
        ]

        @settings(
            max_examples=40,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(route=st.sampled_from(routes), form=st.dictionaries(FIELDS, TEXT, max_size=8))
        def post(route: str, form: dict[str, str]) -> None:
            answer = console.post_form(route, form, follow_redirects=False)
            assert answer.status_code < 500, (route, form, answer.text[:500])

        post()
