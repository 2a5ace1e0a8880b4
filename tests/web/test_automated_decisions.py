"""The portal's "my data" shows the automated decisions about the debtor (PIPL art. 24): the latest
score's reasons in words in the page's language, the strategy's latest decision, a note that these
are automated; and a button to ask a person to review, which opens exactly one case, audited,
shown back as received, and refused without the form's CSRF field."""

from __future__ import annotations

import math

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recoup.audit import service as audit_service
from recoup.config import Settings
from recoup.kit.clock import SettableClock
from recoup.models import Account, AccountScore, AuditEvent, Case, StrategyDecision
from recoup.privacy import service as privacy_service
from recoup.strategy import service as strategy_service
from tests.arrangements.test_flows import DAY0
from tests.factories import create_account, create_customer
from tests.web.test_portal import link
from tests.web.test_selfservice import csrf, late_with_policy, post, verify


def scored(session: Session, clock: SettableClock) -> Account:
    """A late debtor the strategy decided for today, with a p_pay score and its reasons as the
    daily run's scoring writes them (risk's row, planted here: the scoring run is risk's)."""
    account = late_with_policy(session, clock)
    strategy_service.run(session, DAY0, clock=clock)
    session.add(
        AccountScore(
            account_id=account.id,
            as_of_date=DAY0,
            model_id=1,
            kind="p_pay",
            score=0.35,
            reasons=[
                {"code": "promises_broken_60d", "value": 2, "weight": -0.4},
                {"code": "days_since_last_payment", "value": 41, "weight": -0.2},
                {"code": "overdue_log", "value": math.log1p(33_971), "weight": -0.1},
            ],
        )
    )
    session.commit()
    return account


def opened(
    client: TestClient, session: Session, settings: Settings, account: Account, clock: SettableClock
) -> str:
    path = link(settings, account, clock)
    verify(client, session, settings, path, csrf(client.get(f"{path}/verify").text))
    return path


class TestMyDataShowsAutomatedDecisions:
    def test_reason_words_in_chinese_and_english(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        account = scored(session, clock)
        path = opened(anonymous, session, settings, account, clock)
        zh = anonymous.get(f"{path}/data", params={"lang": "zh-CN"})
        assert zh.status_code == 200
        for words in ("自动化决策", "第二十四条", "60天内2次未兑现还款承诺", "距上次还款41天"):
            assert words in zh.text
        assert "估计您近期还款的可能性：35%" in zh.text
        assert "请工作人员复核这个决定" in zh.text
        tw = anonymous.get(f"{path}/data", params={"lang": "zh-TW"})
        assert "60天內2次未兌現還款承諾" in tw.text  # its own characters, not zh-CN's
        assert "60天内2次未兑现还款承诺" not in tw.text
        en = anonymous.get(f"{path}/data", params={"lang": "en"})
        for words in (
            "Decisions made by automated means",
            "art. 24",
            "2 broken promises in 60 days",
            "41 days since the last payment",
            "Estimated chance that you pay soon: 35%",
            "Our latest automated decision",
            "Ask a person to review this decision",
        ):
            assert words in en.text

    def test_an_amount_among_the_reasons_reads_as_money(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        # Catches the removal of the account's currency from the reasons' words: the page read
        # "逾期金额339.71" and "339.71 overdue", a bare number beside ¥ amounts everywhere else.
        account = scored(session, clock)
        path = opened(anonymous, session, settings, account, clock)
        assert "逾期金额¥339.71" in anonymous.get(f"{path}/data", params={"lang": "zh-CN"}).text
        assert "CN¥339.71 overdue" in anonymous.get(f"{path}/data", params={"lang": "en"}).text


class TestMyDataSpeaksWordsNotIdentifiers:
    def test_the_decision_in_words_its_identifiers_kept_out_in_three_languages(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        """The policy's identifiers (stage, treatment, experiment, arm) stay off the page; the
        product, the channel, the learner and the experiment are said in words, and the account and
        the day are the reference a support agent finds the decision by. Catches the template printing `d.treatment` (联系您
        （方式：late_sms）), `d.stage`, `d.learned_arm` or the experiment's name and arm again,
        the product left out, a consent's purpose shown as its code (electronic · sms), or a
        system's actor in "who viewed your data" as its key (api_key:rk_5f3a9c, cli)."""
        account = scored(session, clock)
        privacy_service.record_consent(
            session,
            account.customer_id,
            purpose="electronic",
            channel="sms",
            evidence="test",
            source="agent",
            clock=clock,
        )
        for actor in ("api_key:rk_5f3a9c", "cli"):  # a system and the back office read it
            audit_service.log_access(
                session,
                customer_id=account.customer_id,
                actor=actor,
                kind="view",
                fields=[],
                reason="customer record opened (masked)",
                clock=clock,
            )
        decision = session.execute(
            select(StrategyDecision).where(StrategyDecision.account_id == account.id)
        ).scalar_one()
        assert decision.decision == "contact"
        assert decision.treatment
        assert decision.stage
        decision.experiment, decision.arm = "tone_test_2026", "arm_b"
        decision.learning = {"arm": "early_push"}
        session.commit()
        path = opened(anonymous, session, settings, account, clock)
        identifiers = (
            decision.treatment,
            f">{decision.stage}<",
            "tone_test_2026",
            "arm_b",
            "early_push",
            "electronic",
            "bnpl",
            "rk_5f3a9c",
            ">cli<",
        )
        for language, words in [
            (
                "zh-CN",
                (
                    "先买后付",
                    "通过短信提醒您还款",
                    "关于还款提醒的自动化决定",
                    "根据以往结果不断学习",
                    "随机分到一个比较组",
                    f"请向客服提供账户 {account.external_ref} 和决定日期 2026年6月20日",
                    "接收电子信息 · 短信",
                    "我们的业务系统",
                    "我们的后台工作人员",
                ),
            ),
            (
                "zh-TW",
                (
                    "先買後付",
                    "透過簡訊提醒您付款",
                    "關於付款提醒的自動化決定",
                    "根據以往結果不斷學習",
                    "隨機分到一個比較組",
                    f"請向客服提供帳戶 {account.external_ref} 和決定日期 2026年6月20日",
                    "接收電子訊息 · 簡訊",
                    "我們的業務系統",
                    "我們的後台工作人員",
                ),
            ),
            (
                "en",
                (
                    "Buy now, pay later",
                    "to remind you to pay (Text message)",
                    "automated decision about reminding you to pay",
                    "learns from past results",
                    "comparison group",
                    f"the account {account.external_ref} and the date Jun 20, 2026",
                    "Electronic messages · Text message",
                    "One of our systems",
                    "Our back-office staff",
                ),
            ),
        ]:
            page = anonymous.get(f"{path}/data", params={"lang": language})
            assert page.status_code == 200
            shown = page.text.split('id="automated-decisions"')[1]
            for word in words:
                assert word in shown, (language, word)
            for identifier in identifiers:
                assert identifier not in shown.replace(f'value="{account.external_ref}"', ""), (
                    language,
                    identifier,
                )

    def test_the_law_cited_for_automated_decisions_is_the_debtors_own(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        """A Chinese debtor reads PIPL art. 24; an American one no Chinese law (the page cited
        "China's Personal Information Protection Law" to every debtor)."""
        account = scored(session, clock)
        path = opened(anonymous, session, settings, account, clock)
        assert "Personal Information Protection Law (art. 24)" in (
            anonymous.get(f"{path}/data", params={"lang": "en"}).text
        )
        customer = create_customer(session, clock, jurisdiction="US", name="Jane Roe")
        us_account = create_account(session, clock, customer=customer)
        session.commit()
        us_path = opened(anonymous, session, settings, us_account, clock)
        for language, china in [
            ("zh-CN", "个人信息保护法"),
            ("zh-TW", "個人信息保護法"),
            ("en", "China"),
        ]:
            page = anonymous.get(f"{us_path}/data", params={"lang": language}).text
            assert page.count(china) == 0, language
        assert "You may ask for an explanation and ask a person to review" in page


class TestAskingForAReview:
    def test_one_case_audited_and_shown_as_received(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        account = scored(session, clock)
        path = opened(anonymous, session, settings, account, clock)
        token = csrf(anonymous.get(f"{path}/data").text)
        form = {"csrf": token, "account": account.external_ref, "text": "请人工看一下"}
        first = post(anonymous, f"{path}/data/review", form)
        assert first.status_code == 303  # type: ignore[attr-defined]
        again = post(anonymous, f"{path}/data/review", form)  # a second press, the same day
        assert again.status_code == 303  # type: ignore[attr-defined]
        [case] = session.execute(select(Case)).scalars().all()
        assert (case.kind, case.account_id, case.opened_by, case.channel) == (
            "review",
            account.id,
            "debtor",
            "portal",
        )
        events = session.execute(
            select(AuditEvent).where(AuditEvent.action == "case.review.opened")
        ).scalars()
        assert len(list(events)) == 1
        page = anonymous.get(first.headers["location"])  # type: ignore[attr-defined]
        assert "我们已收到您的复核请求" in page.text
        assert "请人工看一下" in page.text  # their words, as received
        assert "请工作人员复核这个决定" not in page.text  # no second button while it is open
        assert "我们最近的自动化决定" in page.text

    def test_refused_without_the_csrf_field(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        account = scored(session, clock)
        path = opened(anonymous, session, settings, account, clock)
        refused = post(anonymous, f"{path}/data/review", {"account": account.external_ref})
        assert refused.status_code == 403  # type: ignore[attr-defined]
        assert session.execute(select(Case)).first() is None

    def test_words_too_long_or_another_account_are_a_4xx(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        account = scored(session, clock)
        path = opened(anonymous, session, settings, account, clock)
        token = csrf(anonymous.get(f"{path}/data").text)
        long = post(
            anonymous,
            f"{path}/data/review",
            {"csrf": token, "account": account.external_ref, "text": "x" * 1_001},
        )
        assert long.status_code == 422  # type: ignore[attr-defined]
        other = post(anonymous, f"{path}/data/review", {"csrf": token, "account": "not-mine"})
        assert other.status_code == 404  # type: ignore[attr-defined]
        assert session.execute(select(Case)).first() is None
