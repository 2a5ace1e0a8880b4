"""The conversations the assistant handed over, as agents read and resolve them in the console."""

from __future__ import annotations

import datetime as dt
from importlib import resources

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from recoup.assistant import flows as assistant_flows
from recoup.assistant import service as assistant_service
from recoup.assistant.understanding import INTENTS
from recoup.audit import service as audit_service
from recoup.contact import flows as contact_flows
from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from recoup.models import (
    Account,
    AgentTask,
    Conversation,
    ConversationTurn,
    CustomerPhone,
    DataAccess,
)
from tests.console.conftest import ConsoleClient
from tests.web.test_selfservice import late_with_policy

VOICE = assistant_flows.Voice("Recoup Wallet", "400-000-0000")


def handed_over(session: Session, clock: SettableClock) -> tuple[Account, Conversation]:
    """王芳 asks for a person by SMS: the assistant hands the conversation over."""
    account = late_with_policy(session, clock)
    number = session.execute(
        select(CustomerPhone.number).where(CustomerPhone.customer_id == account.customer_id)
    ).scalar_one()
    words = "我要人工客服"
    received = contact_flows.receive_sms(
        session,
        provider="twilio",
        provider_id="SMhuman",
        from_number=number,
        body=words,
        region="CN",
        clock=clock,
        task_replies=False,
    )
    answer = assistant_flows.on_sms(session, received, text=words, clock=clock, voice=VOICE)
    assert answer is not None
    session.commit()
    conversation = session.get(Conversation, answer.conversation_id)
    assert conversation is not None
    assert conversation.state == "handed_over"
    return account, conversation


class TestConversationsPage:
    def test_an_agent_reads_every_turn_and_resolves_it(
        self, session: Session, clock: SettableClock, console: ConsoleClient
    ) -> None:
        account, conversation = handed_over(session, clock)
        console.sign_in(Role.agent)

        page = console.get("/console/conversations")

        assert page.status_code == 200
        assert "我要人工客服" in page.text  # the debtor's words
        assert "已为您转接人工客服" in page.text  # the assistant's answer
        # What the assistant understood, in the page's language (the code kept as its title).
        # Catches the raw code shown alone ("识别为: talk_to_human").
        assert '<span title="talk_to_human">asks for a person</span>' in page.text
        chinese = console.get("/console/conversations", headers={"Accept-Language": "zh-CN"})
        assert '<span title="talk_to_human">要求转人工</span>' in chinese.text
        session.expire_all()
        viewed = session.execute(
            select(DataAccess).where(DataAccess.customer_id == account.customer_id)
        ).scalars()
        assert any("conversation_turns.text" in (v.fields or []) for v in viewed)

        done = console.post_form(
            f"/console/conversations/{conversation.id}/resolve", follow_redirects=False
        )

        assert done.status_code == 303
        session.expire_all()
        assert session.get(Conversation, conversation.id).state == "resolved"  # type: ignore[union-attr]
        task = session.execute(
            select(AgentTask).where(AgentTask.queue == "conversations")
        ).scalar_one()
        assert task.status == "done"
        assert "我要人工客服" not in console.get("/console/conversations").text

    def test_every_intent_the_assistant_knows_has_words_in_both_languages(self) -> None:
        """Catches an intent added to the assistant without its label (the page would show the
        text's key)."""
        words = yaml.safe_load(
            resources.files("recoup.console").joinpath("text/conversations.yaml").read_text("utf-8")
        )
        for language in ("en", "zh-CN"):
            missing = [i for i in INTENTS if f"intent_{i}" not in words[language]]
            assert missing == [], language

    def test_the_page_needs_the_permission(
        self, session: Session, clock: SettableClock, console: ConsoleClient
    ) -> None:
        handed_over(session, clock)
        console.sign_in(Role.auditor)
        assert console.get("/console/conversations").status_code == 403


class TestKpis:
    def test_the_page_counts_what_the_assistant_resolved_alone_and_what_it_handed_over(
        self, session: Session, clock: SettableClock, console: ConsoleClient
    ) -> None:
        _, conversation = handed_over(session, clock)  # one handed over (asked)
        figures_before = assistant_service.kpis(session, since=clock.now() - dt.timedelta(days=1))
        assert (figures_before.conversations, figures_before.handed_over) == (1, 1)
        assert figures_before.handed_over_by_reason == {"asked": 1}
        console.sign_in(Role.agent)
        console.post_form(f"/console/conversations/{conversation.id}/resolve")
        # A person resolved it: still not one the assistant resolved alone.
        figures = assistant_service.kpis(session, since=clock.now() - dt.timedelta(days=1))
        assert (figures.resolved_without_person, figures.median_minutes_to_resolution) == (0, None)

        page = console.get("/console/conversations")

        assert "Resolved without a person" in page.text
        assert "asked for a person: 1" in page.text


class TestOnTheAccount:
    def test_the_account_page_links_its_conversations_for_those_who_may_read_them(
        self, session: Session, clock: SettableClock, console: ConsoleClient
    ) -> None:
        account, conversation = handed_over(session, clock)

        console.sign_in(Role.agent)
        page = console.get(f"/console/accounts/{account.id}")
        assert f'href="/console/conversations/{conversation.id}"' in page.text
        assert "我要人工客服" not in page.text  # the words only behind the logged view

        console.sign_in(Role.auditor)
        page = console.get(f"/console/accounts/{account.id}")
        assert page.status_code == 200
        assert f"/console/conversations/{conversation.id}" not in page.text


class TestAPayLinkInAConversation:
    def test_the_page_says_a_pay_link_was_sent_by_which_contact_and_whether_it_was_opened(
        self, session: Session, clock: SettableClock, console: ConsoleClient
    ) -> None:
        """Removal caught: the turn keeping `[pay link of contact N]` for the staff to read (the
        answer's `pay_link` a placeholder in English, shown as it was on a Chinese page)."""
        account = late_with_policy(session, clock)
        number = session.execute(
            select(CustomerPhone.number).where(CustomerPhone.customer_id == account.customer_id)
        ).scalar_one()
        words = "我想现在还款"
        received = contact_flows.receive_sms(
            session,
            provider="twilio",
            provider_id="SMpay",
            from_number=number,
            body=words,
            region="CN",
            clock=clock,
            task_replies=False,
        )
        assistant_flows.on_sms(session, received, text=words, clock=clock, voice=VOICE)
        link_turn = session.scalars(
            select(ConversationTurn).where(ConversationTurn.action == "assistant_pay_link")
        ).one()
        carrier = link_turn.entities["pay_link_contact"]
        # The debtor opens the link (the portal notes it in the ledger).
        audit_service.record(
            session,
            actor="debtor",
            action="portal.opened",
            subject_type="customer",
            subject_id=account.customer_id,
            clock=clock,
            details={"contact_id": carrier},
        )
        session.commit()
        console.sign_in(Role.agent)
        page = f"/console/conversations/{link_turn.conversation_id}"
        chinese = console.get(f"{page}?lang=zh-CN").text
        assert "pay link of contact" not in chinese
        assert f'href="/console/contacts/{carrier}"' in chinese
        assert f"付款链接：经短信发送，触达 #{carrier}" in chinese
        assert "债务人已于" in chinese
        assert "尚无经由此链接的付款" in chinese
        english = console.get(f"{page}?lang=en").text
        assert f"a pay link, sent by SMS as contact #{carrier}" in english
        assert "the debtor opened it" in english
        assert "{pay_link}" not in english
