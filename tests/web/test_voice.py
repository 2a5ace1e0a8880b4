"""The learning centre, the survey and "my requests" in the portal over HTTP: each language,
only the link's own customer, CSRF on the form, once per survey message, and a 4xx page (never a
5xx) for a bad answer."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from recoup.cases import flows as case_flows
from recoup.config import Settings
from recoup.contact import service as contact_service
from recoup.contact.templates import MessageTemplate, render, sample
from recoup.kit.clock import SettableClock
from tests.factories import create_account, create_customer
from tests.web.test_portal import late, link
from tests.web.test_selfservice import csrf, post, verify


class TestLearningCentre:
    def test_the_articles_in_each_language(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        path = link(settings, late(session, clock, "王芳", 50_000), clock)
        for language, title, rights in [
            ("zh-CN", "逾期对征信有什么影响", "联系时间"),
            ("zh-TW", "逾期對信用紀錄有什麼影響", "聯絡時間"),
            ("en", "What a late payment does to your credit record", "When we may contact you"),
        ]:
            listed = anonymous.get(f"{path}/learn?lang={language}")
            assert listed.status_code == 200, language
            assert title in listed.text, language
            assert f"{path}/learn/credit-record?lang={language}" in listed.text
            assert anonymous.get(f"{path}/learn/credit-record?lang={language}").status_code == 200
            page = anonymous.get(f"{path}/learn/your-rights?lang={language}")
            assert rights in page.text
            assert 'data-rule="cn.hours.legal"' in page.text
        assert anonymous.get(f"{path}/learn/no-such-article").status_code == 404
        assert anonymous.get(f"{path}/learn/..%2f..%2fetc").status_code == 404

    def test_your_rights_cites_the_law_of_the_debtors_own_country(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        """A Chinese debtor reads China's law (中国, 个人信息保护法, GB/T 45251) and no US
        regulation; an American debtor the opposite. Without the per-country `cites` the CN
        page showed "12 CFR 1006.14(h)" under 停止联系."""
        cn = link(settings, late(session, clock, "王芳", 50_000), clock)
        us_customer = create_customer(session, clock, jurisdiction="US", name="Jane Roe")
        us_account = create_account(session, clock, customer=us_customer)
        session.commit()
        us = link(settings, us_account, clock)
        american = ("CFR", "FDCPA", "Reg F", "1006.")
        chinese = ("个人信息保护法", "PIPL", "GB/T 45251", "银行业协会", "China Banking")
        for language, country, pipl in [
            ("zh-CN", "中国", "《个人信息保护法》第十五条"),
            ("zh-TW", "中國", "《个人信息保护法》第十五条"),
            ("en", "China", "PIPL Art. 15"),
        ]:
            page = anonymous.get(f"{cn}/learn/your-rights?lang={language}")
            assert page.status_code == 200
            rights = page.text.split('id="rights"')[1]
            assert f"（{country}）" in rights or f"({country})" in rights, language
            assert pipl in rights, language
            assert "GB/T 45251" in rights, language
            assert not any(mark in rights for mark in american), language
            assert "regulation-rules" not in rights
            page = anonymous.get(f"{us}/learn/your-rights?lang={language}")
            rights = page.text.split('id="rights"')[1]
            assert "12 CFR 1006.6(c)" in rights, language
            assert not any(mark in rights for mark in chinese), language

    def test_a_forged_link_reads_nothing(self, anonymous: TestClient) -> None:
        assert anonymous.get("/p/forged-token/learn").status_code == 410
        assert anonymous.get("/p/forged-token/learn/credit-record").status_code == 410
        assert anonymous.get("/p/forged-token/requests").status_code == 410
        assert anonymous.get("/p/forged-token/survey").status_code == 410

    def test_a_message_can_link_to_an_article(self) -> None:
        body = "Read how repaying mends your record: {{ learn_link }}/credit-record"
        rendered = render(MessageTemplate("x", "in_app", "en", "gentle", body), sample("en"))
        assert rendered.body.endswith("/r/AbC123/learn/credit-record")


class TestSurvey:
    def test_the_survey_message_links_to_the_survey(
        self, session: Session, clock: SettableClock
    ) -> None:
        for version in contact_service.all_versions(session):
            if version.name == "fairness_survey":
                assert "{{ survey_link }}" in version.body
                assert "pay_link" not in version.body

    def test_answered_once_then_thanked_and_never_again(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        path = link(settings, late(session, clock, "王芳", 50_000), clock, contact=41)
        form = anonymous.get(f"{path}/survey")
        assert form.status_code == 200
        assert "我们对待您的方式如何" in form.text
        answer = {"csrf": csrf(form.text), "treated": "5", "clear": "4", "again": "yes"}
        assert post(anonymous, f"{path}/survey", {**answer, "csrf": "0" * 32}).status_code == 403  # type: ignore[attr-defined]
        bad = post(anonymous, f"{path}/survey", {**answer, "treated": "9"})
        assert bad.status_code == 422
        assert "请为“我们对待您的方式”选择 1 到 5 分" in bad.text  # the page's language
        done = post(anonymous, f"{path}/survey", {**answer, "text": "很好"})
        assert done.status_code == 303  # type: ignore[attr-defined]
        thanks = anonymous.get(done.headers["location"])  # type: ignore[attr-defined]
        assert "谢谢您的回答" in thanks.text
        assert "<form" not in thanks.text
        again = post(anonymous, f"{path}/survey", answer)
        assert again.status_code == 409  # type: ignore[attr-defined]
        assert "您已经回答过这份问卷" in anonymous.get(f"{path}/survey").text

    def test_a_hostile_form_is_a_4xx(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        path = link(settings, late(session, clock, "王芳", 50_000), clock, contact=42)
        token = csrf(anonymous.get(f"{path}/survey").text)
        for body in [
            b"\xff\xfe",
            b"csrf=" + token.encode() + b"&treated=5&clear=5&again=yes&text=" + b"a" * 5_000,
            b"csrf="
            + token.encode()
            + b"&treated=5&clear=5&again=yes&text="
            + "字".encode() * 1_001,
            b"csrf=" + token.encode() + b"&treated=%EF%BC%95&clear=5&again=yes",
        ]:
            answer = anonymous.post(
                f"{path}/survey",
                content=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert 400 <= answer.status_code < 500, answer.text


class TestMyRequests:
    def test_own_cases_with_their_status_in_words_and_the_answer(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        mine = late(session, clock, "王芳", 50_000)
        theirs = late(session, clock, "张伟", 30_000)
        opened = {}
        for account, words in ((mine, "打电话太频繁"), (theirs, "别人的投诉")):
            opened[account.id] = case_flows.open_case(
                session,
                account.customer_id,
                kind="complaint",
                reason="too_many_contacts",
                text=words,
                account_ref=None,
                opened_by="debtor",
                channel="portal",
                clock=clock,
            )
        session.commit()
        path = link(settings, mine, clock)
        page = anonymous.get(f"{path}/requests")
        assert page.status_code == 200
        assert "已收到" in page.text
        assert "我们会在" in page.text
        assert page.text.count('class="request"') == 1
        assert f'data-case="{opened[theirs.id].id}"' not in page.text
        case_flows.resolve_case(
            session, opened[mine.id].id, resolution="已调整联系频率。", by="agent:1", clock=clock
        )
        session.commit()
        locked = anonymous.get(f"{path}/requests?lang=en")
        assert "Answered" in locked.text
        assert re.search(r"Answered on</dt><dd>", locked.text)
        assert "已调整联系频率。" not in locked.text  # the answer's words: after the code
        assert "Confirm it&#39;s you to read our answer" in locked.text
        verify(anonymous, session, settings, path, csrf(anonymous.get(f"{path}/help").text))
        answered = anonymous.get(f"{path}/requests?lang=en")
        assert "已调整联系频率。" in answered.text


class TestShippedLinks:
    def test_the_thank_you_email_links_to_the_credit_record_article(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        """The shipped message that links to an article, and the article it names exists in
        every language the message is written in."""
        emails = [
            v
            for v in contact_service.all_versions(session)
            if v.name == "thank_you" and v.channel == "email"
        ]
        assert {v.language for v in emails} == {"zh-CN", "zh-TW", "en"}
        path = link(settings, late(session, clock, "王芳", 50_000), clock)
        for version in emails:
            found = re.search(r"\{\{ learn_link \}\}/([a-z0-9-]+)", version.body)
            assert found is not None, version.language
            page = anonymous.get(f"{path}/learn/{found[1]}?lang={version.language}")
            assert page.status_code == 200, version.language
