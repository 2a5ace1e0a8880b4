"""Every portal form that refuses input says why in the page's language: the refusal carries its
reason and bounds as data (`details["reason"]`, `InvalidValue.reason`) and `web.refusals` words it
from the catalogue. Each form is sent bad input on a zh-CN page: a 4xx (never a 500) whose alert is
Chinese, says what is wrong, and holds no English word; the same refusals read in zh-TW and en."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from recoup.config import Settings
from recoup.kit.clock import SettableClock
from recoup.kit.errors import InvalidValue, NotFound
from recoup.web.refusals import failure, refusal
from recoup.web.text import TEXT
from tests.factories import create_account, create_customer
from tests.web.test_portal import link
from tests.web.test_selfservice import csrf, late_with_policy, post, verify

ALERT = re.compile(r'<p class="error" role="alert">(.*?)</p>', re.S)
ENGLISH = re.compile(r"[A-Za-z]{3,}")


def alert(page: object) -> str:
    found = ALERT.search(page.text)  # type: ignore[attr-defined]
    assert found is not None, page.text[:400]  # type: ignore[attr-defined]
    return found.group(1)


class TestEveryFormRefusesInThePagesLanguage:
    def test_each_bad_input_on_a_chinese_page_is_a_4xx_in_chinese_that_says_what_is_wrong(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        """Catches a form whose refusal reaches the page as the service's English message
        (`failure` ignoring the page's language: "无法完成：the text is at most 2,000
        characters") or a raise without its reason (`details` removed from `open_case`'s long
        text: the general "无法处理您提交的内容" instead of what is wrong): before
        this change a dispute's long text read "无法完成：the text is at most 2,000 characters",
        the quiet hours "give both ends of the quiet hours as HH:MM", a bad amount "'abc' is not
        an amount", and a stale form "无法完成：csrf"."""
        account = late_with_policy(session, clock)
        other = create_account(session, clock, customer=create_customer(session, clock))
        session.commit()
        path = link(settings, account, clock)
        ref = account.external_ref
        token = csrf(anonymous.get(f"{path}/help").text)
        verify(anonymous, session, settings, path, token)
        help_ok = {"csrf": token, "kind": "dispute", "reason": "not_mine"}
        cases: list[tuple[str, dict[str, str], str]] = [
            # disputes and hardship
            ("/help", {**help_ok, "text": "字" * 2_001}, "补充说明最多 2,000 个字"),
            ("/help", {**help_ok, "reason": "aliens"}, "请从列表中选择一个原因"),
            ("/help", {**help_ok, "kind": "hardship", "reason": "not_mine"}, "选择一个原因"),
            ("/help", {**help_ok, "kind": "lawsuit"}, "请选择事项类型"),
            ("/help", {**help_ok, "account": other.external_ref}, "找不到这个账户"),
            ("/help", {**help_ok, "csrf": "0" * 64}, "页面已过期"),
            # contact preferences
            (
                "/preferences",
                {"csrf": token, "channel": "sms", "quiet_from": "25:00", "quiet_to": "08:00"},
                "免打扰时间请按“时:分”",
            ),
            (
                "/preferences",
                {"csrf": token, "channel": "sms", "quiet_from": "²1:00", "quiet_to": "08:00"},
                "免打扰时间请按“时:分”",
            ),
            (
                "/preferences",
                {"csrf": token, "preferred_from": "09:00", "preferred_to": "09:00"},
                "方便联系的时间的开始和结束时间不能相同",
            ),
            ("/preferences", {"csrf": token, "language": "fr"}, "请选择我们支持的语言"),
            # arrangements: the values typed, not only the terms
            (f"/a/{ref}/promise", {"csrf": token, "amount": "abc", "date": "2026-06-25"}, "请填写正确的金额"),
            (f"/a/{ref}/promise", {"csrf": token, "amount": "300", "date": "2026-13-45"}, "请选择一个有效的日期"),
            (f"/a/{ref}/promise", {"csrf": token, "amount": "300.123", "date": "2026-06-25"}, "最多保留 2 位小数"),
            (f"/a/{ref}/promise", {"csrf": token, "amount": "300"}, "请填写日期"),
            (f"/a/{ref}/settlement", {"csrf": token, "amount": "-5"}, "金额需大于 0"),
            # a person to review an automated decision
            ("/data/review", {"csrf": token, "account": ref, "text": "字" * 1_001}, "补充说明最多 1,000 个字"),
            ("/data/review", {"csrf": token, "account": other.external_ref}, "找不到这个账户"),
            # pay now
            ("/pay", {"csrf": token, "account": ref, "amount": "abc"}, "请填写正确的金额"),
            ("/pay", {"csrf": token, "account": ref, "amount": "999999"}, "还款金额需大于 0，且不超过 ¥"),
            ("/pay", {"csrf": token, "account": other.external_ref, "amount": "10"}, "找不到这个账户"),
            # the chat, the survey, autopay
            ("/chat", {"csrf": token, "message": ""}, "消息需为 1 到 1,000 个字"),
            ("/survey", {"csrf": token, "treated": "5", "clear": "5", "again": "maybe"}, "以后是否还愿意"),
            ("/survey", {"csrf": token, "treated": "5", "clear": "0", "again": "yes"}, "请为“我们说得是否清楚”选择 1 到 5 分"),
            ("/autopay/cancel", {"csrf": token, "mandate": "x"}, "请选择要关闭的自动还款"),
            ("/autopay/cancel", {"csrf": token, "mandate": "999"}, "找不到这项自动还款"),
            ("/autopay", {"csrf": token, "account": other.external_ref}, "找不到这个账户"),
        ]  # fmt: skip
        for target, form, words in cases:
            answer = post(anonymous, f"{path}{target}?lang=zh-CN", form)
            status = answer.status_code  # type: ignore[attr-defined]
            assert 400 <= status < 500, (target, form, status)
            said = alert(answer)
            assert words in said, (target, said)
            assert not ENGLISH.search(said), (target, said)

    def test_a_plan_preview_and_the_code_page_refuse_in_chinese(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        """The plan's preview (a GET) with a number no one could mean, an offer that is not there,
        and the code page flooded with requests, say so in Chinese."""
        account = late_with_policy(session, clock)
        path = link(settings, account, clock)
        preview = anonymous.get(
            f"{path}/a/{account.external_ref}/plan", params={"n": "abc", "budget": "100"}
        )
        assert preview.status_code == 422
        assert "请填写分期期数" in alert(preview)
        missing = anonymous.get(f"{path}/a/{account.external_ref}/lease")  # no such offer
        assert missing.status_code == 404
        assert (
            alert(missing) == "无法完成：您的账户目前不提供这种还款方式"
        )  # it read "无法完成：无"
        token = csrf(anonymous.get(f"{path}/verify").text)
        answers = [post(anonymous, f"{path}/code", {"csrf": token}) for _ in range(8)]
        refused = [a for a in answers if a.status_code == 429]  # type: ignore[attr-defined]
        assert refused
        said = alert(refused[-1])
        assert "获取验证码的次数太多了" in said
        assert not ENGLISH.search(said)

    def test_the_same_refusals_read_in_traditional_chinese_and_english(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        account = late_with_policy(session, clock)
        path = link(settings, account, clock)
        token = csrf(anonymous.get(f"{path}/help").text)
        form = {"csrf": token, "kind": "dispute", "reason": "not_mine", "text": "字" * 2_001}
        for language, words in [
            ("zh-TW", "補充說明最多 2,000 個字"),
            ("en", "what you write is at most 2,000 characters"),
        ]:
            answer = post(anonymous, f"{path}/help?lang={language}", form)
            assert answer.status_code == 422  # type: ignore[attr-defined]
            assert words in alert(answer)


class TestTheCatalogue:
    def test_every_reason_is_worded_in_every_language_with_the_same_bounds(self) -> None:
        """A reason worded in one language and not another would fall back to the general
        refusal in that one; the bounds each wording uses are the same in the three."""
        keys = {
            lang: {k for k in words if k.startswith("refused_")} for lang, words in TEXT.items()
        }
        assert keys["zh-CN"] == keys["zh-TW"] == keys["en"]
        for key in keys["en"]:
            bounds = {lang: set(re.findall(r"\{(\w+)\}", TEXT[lang][key])) for lang in TEXT}
            assert bounds["zh-CN"] == bounds["zh-TW"] == bounds["en"], key

    def test_bounds_read_in_the_pages_locale_and_an_unknown_reason_is_still_not_english(
        self,
    ) -> None:
        assert refusal("zh-CN", "pay_amount", most_minor=33_971, currency="CNY") == (
            "还款金额需大于 0，且不超过 ¥339.71"
        )
        assert refusal("en", "window_same", window="quiet") == (
            "the quiet hours must start and end at different times"
        )
        assert refusal("zh-CN", "no_such_reason") == TEXT["zh-CN"]["refused_other"]
        assert failure(NotFound("no customer 7"), "zh-CN") == (
            404,
            TEXT["zh-CN"]["refused_not_found"],
        )
        assert failure(ValueError("bad"), "zh-CN")[1] == TEXT["zh-CN"]["refused_other"]
        assert failure(InvalidValue("x", reason="amount_format")) == (422, "x")  # no language


@pytest.mark.parametrize("language", ["zh-CN", "zh-TW", "en"])
def test_a_refusal_never_echoes_what_was_typed(language: str) -> None:
    """The English message names the typed value ('<script>' is not an amount); the page's words
    never do, so nothing hostile is put back on the page."""
    status, said = failure(
        InvalidValue("'<script>' is not an amount", reason="amount_format"), language
    )
    assert status == 422
    assert "<script>" not in said
