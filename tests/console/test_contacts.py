"""The outbox page and a contact's decision record: a dead letter made by the real dispatcher (a
permanent refusal from a local Twilio stand-in) is listed and retried from the page through the
same service as the API, and its record shows what the guard said and what happened."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from recoup.config import Settings
from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from recoup.models import ContactPlan, StrategyDecision
from tests.channels.providers import FakeTwilio, twilio_error
from tests.console.browser import TABLET, console_browser
from tests.console.conftest import ConsoleClient
from tests.contact.test_dispatch import dispatcher, drain, spool
from tests.contact.test_retries import SID, TOKEN, planned_sms, sms_dispatcher
from tests.strategy.test_daily_run import TestOptOuts
from tests.web.test_my_data_page import sent_sms_at_seven_pm

__all__ = ["console_browser"]


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio(SID, TOKEN) as fake:
        yield fake


def dead_letter(
    session: Session, sessions: sessionmaker[Session], clock: SettableClock, twilio: FakeTwilio
) -> ContactPlan:
    contact, _ = planned_sms(session, clock)
    twilio.script(twilio_error(400, 21211, "The 'To' number is not a valid phone number."))
    assert drain(sms_dispatcher(sessions, clock, twilio)) == {"failed": 1}
    session.expire_all()
    return contact


def test_a_supervisor_sees_a_dead_letter_and_retries_it(
    console: ConsoleClient,
    session: Session,
    sessions: sessionmaker[Session],
    clock: SettableClock,
    twilio: FakeTwilio,
) -> None:
    contact = dead_letter(session, sessions, clock, twilio)
    console.sign_in(Role.supervisor)
    page = console.get("/console/outbox")
    assert page.status_code == 200
    assert f'action="/console/contacts/{contact.id}/retry"' in page.text
    assert "21211" in page.text

    without_csrf = console.post(f"/console/contacts/{contact.id}/retry", data={})
    assert without_csrf.status_code == 403
    session.expire_all()
    assert session.get(ContactPlan, contact.id).status == "failed"  # type: ignore[union-attr]

    done = console.post_form(f"/console/contacts/{contact.id}/retry", follow_redirects=False)
    assert done.status_code == 303
    session.expire_all()
    assert session.get(ContactPlan, contact.id).status == "queued"  # type: ignore[union-attr]
    again = console.post_form(f"/console/contacts/{contact.id}/retry")
    assert again.status_code == 409
    assert "not a dead letter" in again.text

    record = console.get(f"/console/contacts/{contact.id}")
    assert record.status_code == 200
    assert "21211" in record.text  # the refusal in the history
    assert "supervisor" in record.text  # who put it back


def test_an_agent_reads_a_record_but_may_not_open_the_outbox(
    console: ConsoleClient,
    session: Session,
    sessions: sessionmaker[Session],
    clock: SettableClock,
    twilio: FakeTwilio,
) -> None:
    contact = dead_letter(session, sessions, clock, twilio)
    console.sign_in(Role.agent)
    assert console.get(f"/console/contacts/{contact.id}").status_code == 200
    assert console.get("/console/outbox").status_code == 403
    assert console.post_form(f"/console/contacts/{contact.id}/retry").status_code == 403


def test_the_api_retries_a_dead_letter_for_a_supervisor_only(
    console: ConsoleClient,
    session: Session,
    sessions: sessionmaker[Session],
    clock: SettableClock,
    twilio: FakeTwilio,
) -> None:
    contact = dead_letter(session, sessions, clock, twilio)
    console.sign_in(Role.agent)
    assert console.post(f"/v1/contacts/{contact.id}/retry").status_code == 403
    console.sign_in(Role.supervisor)
    answer = console.post(f"/v1/contacts/{contact.id}/retry")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"id": contact.id, "status": "queued"}


def test_a_contact_the_guard_blocked_at_plan_time_shows_its_codes(
    console: ConsoleClient, session: Session, clock: SettableClock
) -> None:
    """A decision keeps the guard's plan-time reasons as a list of codes: the page read it as a
    mapping and answered 500 on every blocked contact (found walking the demo's console)."""
    account = TestOptOuts().late(session, clock, "push", "sms")
    session.commit()
    contact_id = session.scalars(
        select(ContactPlan.id).where(
            ContactPlan.account_id == account.id, ContactPlan.status == "blocked"
        )
    ).one()
    console.sign_in(Role.compliance_officer)
    page = console.get(f"/console/contacts/{contact_id}")
    assert page.status_code == 200, page.text
    assert "<code>OPTED_OUT</code>" in page.text


def test_a_record_names_channel_and_statuses_in_the_pages_language(
    console: ConsoleClient,
    session: Session,
    sessions: sessionmaker[Session],
    clock: SettableClock,
    twilio: FakeTwilio,
) -> None:
    """Removal caught: the record printing the stored codes (`sms`, `failed`, `sending`) on a
    Chinese page, as the demo's compliance officer saw it."""
    contact = dead_letter(session, sessions, clock, twilio)
    console.sign_in(Role.compliance_officer)
    page = console.get(f"/console/contacts/{contact.id}?lang=zh-CN").text
    assert "<dd>短信 · collection</dd>" in page
    assert '<span class="badge bad">失败</span>' in page
    history = page.split("</table>")[-2]
    assert "<td>发送中</td>" in history
    assert "<td>sending</td>" not in history
    english = console.get(f"/console/contacts/{contact.id}?lang=en").text
    assert '<span class="badge bad">Failed</span>' in english


def test_a_sent_sms_with_its_pay_link_fits_a_tablet(
    console: ConsoleClient,
    session: Session,
    sessions: sessionmaker[Session],
    clock: SettableClock,
    settings: Settings,
    tmp_path: Path,
    console_browser: Browser,
) -> None:
    """Removal caught: without `overflow-wrap: anywhere` on `p.message` (compliance.css) the
    SMS's pay link, one unbroken word, widened the record to 964 px on an 820 px tablet (the
    demo's contact #2804)."""
    account = sent_sms_at_seven_pm(session, sessions, clock, settings, tmp_path)
    contact_id = session.scalars(
        select(ContactPlan.id).where(ContactPlan.account_id == account.id)
    ).one()
    console.sign_in(Role.compliance_officer)
    html = console.get(f"/console/contacts/{contact_id}?lang=en").text
    assert "/p/" in html.split('class="message"', 1)[1]  # the link is on the page
    context = console_browser.new_context(viewport=TABLET)  # type: ignore[arg-type]
    page = context.new_page()
    page.set_content(re.sub(r'<link rel="stylesheet"[^>]*>', "", html))
    for sheet in ("console.css", "compliance.css"):
        page.add_style_tag(content=console.get(f"/console/static/{sheet}").text)
    width = page.evaluate("document.documentElement.scrollWidth")
    context.close()
    assert width <= TABLET["width"], f"the record scrolls sideways on a tablet ({width}px)"


class TestTheGuardRuleByRule:
    """A contact the daily run planned: its record tells the rule packs and versions, the zone
    and local time checked, and every rule's verdict, at plan time and at each send-time check,
    in the page's language."""

    def test_a_planned_contact_the_guard_refused_shows_every_rule_at_plan_time(
        self, console: ConsoleClient, session: Session, clock: SettableClock
    ) -> None:
        """Removal caught: the daily run keeping only the reason codes (`decision_rows`
        writing `codes` instead of `_kept`'s verdict): the packs, the zone and the rules that
        passed showed "—", as the compliance officer saw it."""
        account = TestOptOuts().late(session, clock, "push", "sms")
        session.commit()
        contact_id = session.scalars(
            select(ContactPlan.id).where(ContactPlan.account_id == account.id)
        ).one()
        console.sign_in(Role.compliance_officer)
        english = console.get(f"/console/contacts/{contact_id}?lang=en").text
        assert "<code>CN@" in english  # the pack and its version
        assert "in Asia/Shanghai" in english  # the local time checked, in the debtor's zone
        plan = english.split("Each rule at plan time", 1)[1].split("</table>", 1)[0]
        refused = plan.split("<code>base.opt_out</code>", 1)[1].split("</tr>", 1)[0]
        assert "refused" in refused
        assert "the debtor opted out" in refused
        hours = plan.split("<code>cn.hours.legal</code>", 1)[1].split("</tr>", 1)[0]
        assert "allowed" in hours  # a rule that passed is listed with its verdict
        chinese = console.get(f"/console/contacts/{contact_id}?lang=zh-CN").text
        plan_zh = chinese.split("计划时逐条规则", 1)[1].split("</table>", 1)[0]
        assert "债务人已退订此渠道或地址" in plan_zh
        assert "通过" in plan_zh
        assert "拒绝" in plan_zh
        assert "refused" not in plan_zh
        assert "allowed" not in plan_zh

    def test_a_contact_without_a_verdict_at_plan_time_does_not_claim_codes_or_an_allowance(
        self, console: ConsoleClient, session: Session, clock: SettableClock
    ) -> None:
        """A decision that kept no verdict for the contact (an agent's call from a queue: the
        day's plan made no contact, the dial was checked when asked) says so. Removal caught:
        the page printing "allowed" and "its reason codes only" for an empty list of codes, as
        the demo's queue calls showed it (an allowance at plan time that no check gave)."""
        account = TestOptOuts().late(session, clock)
        session.execute(
            update(StrategyDecision)
            .where(StrategyDecision.account_id == account.id)
            .values(compliance=[])
        )
        session.commit()
        contact_id = session.scalars(
            select(ContactPlan.id).where(ContactPlan.account_id == account.id)
        ).one()
        console.sign_in(Role.compliance_officer)
        english = console.get(f"/console/contacts/{contact_id}?lang=en").text
        assert "No verdict kept at plan time" in english
        assert "reason codes only" not in english
        chinese = console.get(f"/console/contacts/{contact_id}?lang=zh-CN").text
        assert "计划时没有保存合规判断" in chinese
        assert "仅有原因代码" not in chinese

    def test_the_send_time_check_is_told_rule_by_rule(
        self,
        console: ConsoleClient,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        """Removal caught: the dispatcher keeping the guard's verdict only when it refuses
        (`checked` left out of the sending verdict's detail): an allowed send had no rules.
        And the history not repeating that verdict as raw JSON (fails without the console's
        `guard` taken out of the events' detail: tried)."""
        account = TestOptOuts().late(session, clock)
        session.commit()
        contact = session.scalars(
            select(ContactPlan).where(ContactPlan.account_id == account.id)
        ).one()
        assert contact.status == "planned"
        assert contact.scheduled_at is not None
        clock.set(contact.scheduled_at)
        assert drain(dispatcher(sessions, clock, spool(tmp_path))) == {"sent": 1}
        console.sign_in(Role.compliance_officer)
        page = console.get(f"/console/contacts/{contact.id}?lang=en").text
        assert "Each rule at plan time" in page
        send = page.split("Each rule at send time", 1)[1].split("</table>", 1)[0]
        history = page.rsplit("</table>", 2)[-2]  # the history: the verdict not again as JSON
        assert "&#34;packs&#34;" not in history
        assert "&#34;guard&#34;" not in history
        assert "<code>CN@" in send
        assert "in Asia/Shanghai" in send
        assert "<code>cn.hours.legal</code>" in send
        assert "refused" not in send
        zh = console.get(f"/console/contacts/{contact.id}?lang=zh-CN").text
        assert "发送时逐条规则" in zh

    def test_recoup_contact_explain_prints_every_rule_at_plan_time(
        self, session: Session, clock: SettableClock
    ) -> None:
        """Removal caught: `recoup contact explain` joining the kept verdict as if it were the
        old list of codes (it printed the verdict's keys, `decision, at, zones...`)."""
        from recoup.cli.common import console as cli_console
        from recoup.cli.contact import _print_explanation
        from recoup.contact import service as contact_service

        account = TestOptOuts().late(session, clock, "push", "sms")
        contact_id = session.scalars(
            select(ContactPlan.id).where(ContactPlan.account_id == account.id)
        ).one()
        with cli_console.capture() as captured:
            _print_explanation(contact_service.explain(session, contact_id))
        out = captured.get()
        assert "guard at plan time: block" in out
        assert "base.opt_out (BASE): refused OPTED_OUT" in out
        assert "cn.hours.legal (CN): allowed" in out
