"""The portal's self-service: arrangements within the offers, the one-time code before anything
sensitive, preferences, disputes and "my data"; CSRF on every form and no 5xx on any input."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlencode

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from recoup.arrangements.links import one_time_code
from recoup.config import Settings
from recoup.kit.clock import SettableClock
from recoup.models import (
    Account,
    Arrangement,
    Case,
    ContactPreference,
    Customer,
    OneTimeCode,
    OptOut,
)
from tests.arrangements.test_flows import DAY0, activate, on
from tests.contact.test_dispatch import dispatcher, drain, spool
from tests.factories import add_bill, create_account, create_customer
from tests.web.test_portal import link

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def late_with_policy(session: Session, clock: SettableClock, name: str = "王芳") -> Account:
    from recoup.delinquency import service as delinquency_service

    on(clock, DAY0)
    customer = create_customer(session, clock, name=name)
    account = create_account(session, clock, customer=customer)
    add_bill(session, clock, account, DAY0.replace(day=10), 28_000, interest=2_000)
    add_bill(session, clock, account, DAY0.replace(day=30), 28_000, interest=2_000)
    activate(session, clock)
    delinquency_service.run_daily(session, DAY0, clock=clock)
    session.commit()
    return account


def csrf(page_text: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page_text)
    assert found is not None
    return found.group(1)


def post(client: TestClient, path: str, data: dict[str, str] | list[tuple[str, str]]) -> object:
    return client.post(path, content=urlencode(data), headers=FORM, follow_redirects=False)


def verify(
    client: TestClient, session: Session, settings: Settings, path: str, token_csrf: str
) -> None:
    """Ask for a code and enter it, as the debtor would with the text message in hand."""
    sent = post(client, f"{path}/code", {"csrf": token_csrf, "next": "/data"})
    assert sent.status_code == 200, sent.text  # type: ignore[attr-defined]
    row = session.execute(select(OneTimeCode).order_by(OneTimeCode.id.desc())).scalars().first()
    assert row is not None
    code = one_time_code(settings.link_signing_keys[0], row.id)
    done = post(client, f"{path}/verify", {"csrf": token_csrf, "code": code, "next": "/data"})
    assert done.status_code == 303  # type: ignore[attr-defined]


class TestArrangementsInThePortal:
    def test_the_overview_offers_what_the_policy_allows(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        account = late_with_policy(session, clock)
        page = anonymous.get(link(settings, account, clock))
        assert page.status_code == 200
        for label in ("约定还款日期", "分期还款", "协商结清", "遇到问题", "联系偏好", "我的数据"):
            assert label in page.text
        assert f"/a/{account.external_ref}/promise" in page.text

    def test_a_promise_needs_no_code_and_pauses_reminders(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        account = late_with_policy(session, clock)
        path = link(settings, account, clock)
        form = anonymous.get(f"{path}/a/{account.external_ref}/promise", params={"lang": "en"})
        assert "Promise to pay by a date" in form.text
        made = post(
            anonymous,
            f"{path}/a/{account.external_ref}/promise?lang=en",
            {"csrf": csrf(form.text), "amount": "300", "date": "2026-06-25"},
        )
        assert made.status_code == 303  # type: ignore[attr-defined]
        back = anonymous.get(made.headers["location"])  # type: ignore[attr-defined]
        assert "We have noted your promise" in back.text
        assert "Your arrangement" in back.text
        promise = session.execute(select(Arrangement)).scalar_one()
        assert (promise.kind, promise.amount_minor, promise.made_by) == (
            "promise",
            30_000,
            "debtor",
        )

    def test_a_plan_is_previewed_then_confirmed_after_a_code(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        anonymous: TestClient,
        settings: Settings,
        tmp_path: Path,
    ) -> None:
        account = late_with_policy(session, clock)
        path = link(settings, account, clock)
        plan_url = f"{path}/a/{account.external_ref}/plan"
        preview = anonymous.get(plan_url, params={"n": "4", "budget": "200"})
        assert preview.status_code == 200
        assert preview.text.count("¥153.00") == 4  # ¥600 + 2 % in four
        too_little = anonymous.get(plan_url, params={"n": "2", "budget": "200"})
        assert too_little.status_code == 422
        # The refusal in the page's language (removal caught: the terms' English message,
        # "the instalments are more than you said ...", on the Chinese page).
        assert "每期金额超过了您每月能承担的金额；分 4 期您可以承担" in too_little.text
        assert "instalments would fit" not in too_little.text
        english = anonymous.get(plan_url, params={"n": "2", "budget": "200", "lang": "en"})
        assert "4 instalments would fit" in english.text
        token_csrf = csrf(preview.text)
        gated = post(anonymous, plan_url, {"csrf": token_csrf, "n": "4", "budget": "200"})
        assert gated.status_code == 303  # type: ignore[attr-defined]
        assert "/verify?next=/a/" in gated.headers["location"]  # type: ignore[attr-defined]
        assert session.execute(select(Arrangement)).first() is None

        sent = post(anonymous, f"{path}/code", {"csrf": token_csrf, "next": "/a/x/plan"})
        assert "138****" in sent.text  # type: ignore[attr-defined]
        # The code leaves through the outbox as a text to the debtor's own mobile.
        base = settings.public_url.rstrip("/")
        key = settings.link_signing_keys[0]
        assert drain(
            dispatcher(sessions, clock, spool(tmp_path), public_url=base, link_key=key)
        ) == {"sent": 1}
        [message] = [json.loads(p.read_text("utf-8")) for p in tmp_path.glob("spool/sms/*.json")]
        code = re.search(r"验证码是 (\d{6})", message["body"])
        assert code is not None
        row = session.execute(select(OneTimeCode)).scalar_one()
        assert code.group(1) not in row.code_hash  # only a keyed hash is kept

        wrong = post(anonymous, f"{path}/verify", {"csrf": token_csrf, "code": "000000"})
        assert wrong.status_code == 403  # type: ignore[attr-defined]
        entered = post(
            anonymous, f"{path}/verify", {"csrf": token_csrf, "code": code.group(1), "next": "/x"}
        )
        assert entered.status_code == 303  # type: ignore[attr-defined]
        cookie = entered.headers["set-cookie"]  # type: ignore[attr-defined]
        for flag in ("HttpOnly", "Secure", "SameSite=strict", f"Path={path}", "Max-Age=900"):
            assert flag in cookie
        made = post(anonymous, plan_url, {"csrf": token_csrf, "n": "4", "budget": "200"})
        assert made.status_code == 303, made.text  # type: ignore[attr-defined]
        plan = session.execute(select(Arrangement)).scalar_one()
        assert (plan.kind, plan.amount_minor, plan.terms["instalments"]) == ("plan", 61_200, 4)

    def test_codes_are_rate_limited_and_spent_after_five_wrong_tries(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        account = late_with_policy(session, clock)
        path = link(settings, account, clock)
        token_csrf = csrf(anonymous.get(f"{path}/verify").text)
        for _ in range(3):
            assert post(anonymous, f"{path}/code", {"csrf": token_csrf}).status_code == 200  # type: ignore[attr-defined]
        assert post(anonymous, f"{path}/code", {"csrf": token_csrf}).status_code == 429  # type: ignore[attr-defined]
        row = session.execute(select(OneTimeCode).order_by(OneTimeCode.id.desc())).scalars().first()
        assert row is not None
        good = one_time_code(settings.link_signing_keys[0], row.id)
        for _ in range(5):
            post(anonymous, f"{path}/verify", {"csrf": token_csrf, "code": "999999"})
        late = post(anonymous, f"{path}/verify", {"csrf": token_csrf, "code": good})
        assert late.status_code == 403  # type: ignore[attr-defined]

    def test_another_customers_account_is_not_found(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        mine = late_with_policy(session, clock, "王芳")
        theirs = late_with_policy(session, clock, "赵磊")
        path = link(settings, mine, clock)
        page = anonymous.get(f"{path}/a/{theirs.external_ref}/promise")
        assert page.status_code == 404
        assert theirs.external_ref not in page.text


class TestPreferencesHelpAndData:
    def test_preferences_after_a_code_opt_out_and_set_quiet_hours(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        account = late_with_policy(session, clock)
        path = link(settings, account, clock)
        gated = anonymous.get(f"{path}/preferences", follow_redirects=False)
        assert gated.status_code == 303
        token_csrf = csrf(anonymous.get(f"{path}/verify").text)
        verify(anonymous, session, settings, path, token_csrf)
        page = anonymous.get(f"{path}/preferences")
        assert page.status_code == 200
        saved = post(
            anonymous,
            f"{path}/preferences",
            [
                ("csrf", token_csrf),
                ("language", "en"),
                ("channel", "sms"),
                ("channel", "email"),
                ("quiet_from", "21:00"),
                ("quiet_to", "09:00"),
            ],
        )
        assert saved.status_code == 303, saved.text  # type: ignore[attr-defined]
        opted = session.execute(
            select(OptOut.channel).where(OptOut.withdrawn_at.is_(None))
        ).scalars()
        assert sorted(opted) == ["call", "push"]
        preference = session.get(ContactPreference, account.customer_id)
        assert preference is not None
        assert (preference.quiet_from, preference.quiet_to) == (21 * 60, 9 * 60)
        customer = session.get(Customer, account.customer_id)
        assert customer is not None
        assert customer.preferred_language == "en"
        bad = post(anonymous, f"{path}/preferences", {"csrf": token_csrf, "quiet_from": "25:00"})
        assert bad.status_code == 422  # type: ignore[attr-defined]

    def test_a_dispute_from_the_portal_needs_no_code(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        account = late_with_policy(session, clock)
        path = link(settings, account, clock)
        form = anonymous.get(f"{path}/help")
        assert "这不是我的欠款" in form.text
        sent = post(
            anonymous,
            f"{path}/help",
            {"csrf": csrf(form.text), "kind": "dispute", "reason": "already_paid", "text": "已还"},
        )
        assert sent.status_code == 303  # type: ignore[attr-defined]
        case = session.execute(select(Case)).scalar_one()
        assert (case.kind, case.reason, case.opened_by) == ("dispute", "already_paid", "debtor")
        assert "处理期间我们不会催收" in anonymous.get(sent.headers["location"]).text  # type: ignore[attr-defined]

    def test_my_data_shows_what_is_held_and_who_looked(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        account = late_with_policy(session, clock)
        path = link(settings, account, clock)
        token_csrf = csrf(anonymous.get(f"{path}/verify").text)
        verify(anonymous, session, settings, path, token_csrf)
        first = anonymous.get(f"{path}/data")
        assert first.status_code == 200
        assert "王芳" in first.text  # the verified person sees their own data in full
        assert "您查看了自己的数据" not in first.text
        again = anonymous.get(f"{path}/data")  # the first look is on the log now
        assert "您查看了自己的数据" in again.text

    def test_every_form_refuses_a_missing_csrf_field(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        account = late_with_policy(session, clock)
        path = link(settings, account, clock)
        for target in ("/a/{ref}/promise", "/code", "/verify", "/help", "/pay"):
            url = path + target.format(ref=account.external_ref)
            answer = post(anonymous, url, {"amount": "1", "kind": "dispute", "reason": "other"})
            assert answer.status_code == 403, (target, answer.status_code)  # type: ignore[attr-defined]
        assert session.execute(select(Case)).first() is None


FORM_PATHS = (
    "/pay",
    "/a/{ref}/promise",
    "/a/{ref}/plan",
    "/a/{ref}/settlement",
    "/a/{ref}/x",
    "/code",
    "/verify",
    "/preferences",
    "/help",
    "/data/review",
)
printable = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


class TestLimits:
    def test_a_link_that_floods_the_forms_is_slowed_down(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        account = late_with_policy(session, clock)
        path = link(settings, account, clock)
        answers = [post(anonymous, f"{path}/help", {"csrf": "x"}).status_code for _ in range(61)]  # type: ignore[attr-defined]
        assert answers[:60] == [403] * 60
        assert answers[60] == 429
        other = link(settings, late_with_policy(session, clock, "赵磊"), clock)
        assert post(anonymous, f"{other}/help", {"csrf": "x"}).status_code == 403  # type: ignore[attr-defined]


class TestFuzz:
    def test_a_forged_field_in_any_script_is_refused_not_crashed(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        account = late_with_policy(session, clock)
        path = link(settings, account, clock)
        for target in ("/pay", "/help", "/code", "/verify"):
            answer = post(anonymous, path + target, {"csrf": "\u0080验证", "code": "١٢٣٤٥٦"})
            assert answer.status_code == 403, target  # type: ignore[attr-defined]

    @hypothesis_settings(
        max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(
        target=st.sampled_from(FORM_PATHS),
        fields=st.lists(
            st.tuples(
                st.sampled_from(
                    [
                        "csrf",
                        "amount",
                        "date",
                        "n",
                        "budget",
                        "income",
                        "days",
                        "code",
                        "next",
                        "kind",
                        "reason",
                        "text",
                        "account",
                        "language",
                        "channel",
                        "quiet_from",
                        "quiet_to",
                        "x",
                    ]
                ),
                printable,
            ),
            max_size=12,
        ),
        raw=st.binary(max_size=64),
        keep_csrf=st.booleans(),
    )
    def test_no_form_answers_5xx(
        self,
        session: Session,
        clock: SettableClock,
        anonymous: TestClient,
        settings: Settings,
        target: str,
        fields: list[tuple[str, str]],
        raw: bytes,
        keep_csrf: bool,
    ) -> None:
        account = self.account(session, clock)
        path = link(settings, account, clock)
        url = path + target.format(ref=account.external_ref)
        token_csrf = self.token_csrf(anonymous, path)
        data = ([("csrf", token_csrf)] if keep_csrf else []) + fields
        body = urlencode(data).encode() + (b"&" + raw if raw else b"")
        answer = anonymous.post(url, content=body, headers=FORM, follow_redirects=False)
        assert answer.status_code < 500, (url, body, answer.text[:300])
        page = anonymous.get(url, params=dict(fields[:4]))
        assert page.status_code < 500, (url, fields)

    def account(self, session: Session, clock: SettableClock) -> Account:
        found = session.execute(select(Account)).scalars().first()
        return found if found is not None else late_with_policy(session, clock)

    def token_csrf(self, client: TestClient, path: str) -> str:
        return csrf(client.get(f"{path}/help").text)
