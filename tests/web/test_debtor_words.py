"""What the debtor reads speaks the debtor's money, creditor and country: amount labels carry the
currency's symbol as the amounts beside them do, never an ISO code; a rule of our own is the
creditor's, never the vendor's product ("Recoup")."""

from __future__ import annotations

import datetime as dt
import re
from importlib import resources
from pathlib import Path

import pytest
from babel.dates import format_date
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from recoup.cases import flows as case_flows
from recoup.compliance import Guard, load_guard
from recoup.compliance.packs import HousePolicy, parse_pack, shipped_packs
from recoup.config import DEMO_CREDITOR, Settings
from recoup.contact.templates import LANGUAGES as LOCALES
from recoup.delinquency import service as delinquency_service
from recoup.education import service as education_service
from recoup.education.body import blocks, for_country
from recoup.education.rights import sections
from recoup.kit.clock import SettableClock
from recoup.kit.errors import ConfigurationError, ValidationFailed
from recoup.ledger import schemas as ledger_schemas
from recoup.ledger import service as ledger_service
from recoup.models import Account
from recoup.models.account import Collector
from recoup.web.text import TEXT
from tests.arrangements.test_flows import DAY0, activate, on
from tests.channels.test_config import production
from tests.factories import add_bill, create_account, create_customer
from tests.web.test_portal import late, link
from tests.web.test_selfservice import csrf, verify

CREDITOR = "乐还钱包"


def t(language: str, key: str) -> str:
    return TEXT[language][key]


VENDOR = ("Recoup", "本平台")  # the product's name, and the anonymous "this platform" it hid behind


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A deployment that names its creditor (the default names the vendor's demo wallet)."""
    return settings.model_copy(update={"creditor_name": CREDITOR})


def late_in(
    session: Session, clock: SettableClock, *, currency: str, jurisdiction: str = "CN"
) -> Account:
    """A debtor of `jurisdiction` owing in `currency`, a bill 10 days late, with the arrangements
    the test policy offers."""
    on(clock, DAY0)
    customer = create_customer(session, clock, jurisdiction=jurisdiction, name="王芳")
    account = create_account(session, clock, customer=customer, currency=currency)
    add_bill(session, clock, account, DAY0.replace(day=10), 28_000, interest=2_000)
    add_bill(session, clock, account, DAY0.replace(day=30), 28_000, interest=2_000)
    activate(session, clock)
    delinquency_service.run_daily(session, DAY0, clock=clock)
    session.commit()
    return account


def labels(html: str) -> list[str]:
    return re.findall(r"<label for=\"[^\"]+\">([^<]*)</label>", html)


class TestAmountLabelsShowTheSymbol:
    @pytest.mark.parametrize(
        ("currency", "language", "pay"),
        [
            ("CNY", "zh-CN", "还款金额（¥）"),
            ("CNY", "zh-TW", "付款金額（CN¥）"),  # Babel's zh_TW: ¥ alone would read as the yen
            ("CNY", "en", "Amount to pay (CN¥)"),  # as the page's amounts: CN¥300.00
            ("EUR", "zh-CN", "还款金额（€）"),
            ("EUR", "en", "Amount to pay (€)"),
            ("USD", "en", "Amount to pay ($)"),
            ("USD", "zh-CN", "还款金额（US$）"),
        ],
    )
    def test_the_pay_now_label_carries_the_symbol_of_the_amounts_beside_it(
        self,
        session: Session,
        clock: SettableClock,
        anonymous: TestClient,
        settings: Settings,
        currency: str,
        language: str,
        pay: str,
    ) -> None:
        """Catches `symbol` dropped from `web.portal.page` (the label reads 还款金额（CNY）)."""
        account = late_in(session, clock, currency=currency)
        page = anonymous.get(link(settings, account, clock), params={"lang": language})
        assert page.status_code == 200
        assert pay in labels(page.text)
        assert f"（{currency}）" not in page.text
        assert f"({currency}" not in page.text
        owed = re.search(r'<dd class="big">([^<]+)</dd>', page.text)
        assert owed is not None
        symbol = re.split(r"[（(]", pay)[1].rstrip("）)")
        assert symbol in owed.group(1)  # the label and the amount show the currency alike

    @pytest.mark.parametrize(
        ("language", "expected"),
        [
            ("zh-CN", {"promise": ["金额（€）"], "plan": ["每月能还（€）", "或：每月收入（€）"]}),
            (
                "en",
                {
                    "promise": ["Amount (€)"],
                    "plan": ["I can pay each month (€)", "or: my monthly income (€)"],
                },
            ),
        ],
    )
    def test_the_arrangement_forms_label_amounts_with_the_symbol(
        self,
        session: Session,
        clock: SettableClock,
        anonymous: TestClient,
        settings: Settings,
        language: str,
        expected: dict[str, list[str]],
    ) -> None:
        account = late_in(session, clock, currency="EUR", jurisdiction="IE")
        path = link(settings, account, clock)
        for kind, wanted in expected.items():
            page = anonymous.get(
                f"{path}/a/{account.external_ref}/{kind}", params={"lang": language}
            )
            assert page.status_code == 200, page.text
            for label in wanted:
                assert label in labels(page.text)
            assert "EUR" not in page.text

    def test_every_currency_a_template_fills_goes_through_the_symbol(self) -> None:
        """The one place: a template filling `{currency}` with the account's code directly
        (`currency=pos.currency`) would show the ISO code again."""
        folder = resources.files("recoup.web") / "templates"
        fills = [
            (entry.name, found)
            for entry in folder.iterdir()
            if entry.name.endswith(".html")
            for found in re.findall(r"currency=([^,)]+\)?)", entry.read_text("utf-8"))
        ]
        assert fills, "no template fills {currency}: this test no longer guards anything"
        assert all(value.startswith("symbol(") for _, value in fills), fills


class TestTheCreditorNotTheVendor:
    def test_no_rule_the_rights_page_shows_names_the_vendor(self) -> None:
        """Every shipped jurisdiction, language and collector role: the packs' words a debtor
        reads (title and citation) never name the product. Before, the CN evening rule read
        "Recoup's evening limit for China is 21:00" and GB's "Recoup reads reasonable as"."""
        guard = load_guard()
        places = {j.replace("-*", "") for p in guard.packs for j in p.jurisdictions} - {"*"}
        assert {"CN", "GB", "US"} <= places
        for place in sorted(places):
            for language in LOCALES:
                for collectors in (("creditor",), ("third_party",)):
                    for section in sections(guard, place, language, collectors):
                        for right in section.rights:
                            words = f"{right.text} {right.citation or ''}"
                            assert not any(v in words for v in VENDOR), (place, language, words)

    @pytest.mark.parametrize(
        ("language", "ours"),
        [
            ("zh-CN", f"{CREDITOR}自己的规定（严于或补充当地法律）"),
            ("zh-TW", f"{CREDITOR}自己的規定（嚴於或補充當地法律）"),
            ("en", f"{CREDITOR}&#39;s own rule, beyond what the local law asks"),
        ],
    )
    def test_a_rule_of_our_own_is_the_creditors(
        self,
        session: Session,
        clock: SettableClock,
        anonymous: TestClient,
        settings: Settings,
        language: str,
        ours: str,
    ) -> None:
        """The rights page names the configured creditor beside a house rule (China's 21:00),
        and nowhere the vendor."""
        path = link(settings, late(session, clock, "王芳", 50_000), clock)
        page = anonymous.get(f"{path}/learn/your-rights", params={"lang": language})
        assert page.status_code == 200
        article = page.text.split('<article class="article">')[1]
        evening = re.search(r'<li data-rule="cn\.hours\.house">(.*?)</li>', article)
        assert evening is not None
        assert ours in evening.group(1)
        assert not any(v in article for v in VENDOR), language

    def test_production_refuses_to_name_the_demos_creditor(self, tmp_path: Path) -> None:
        """Unset, every page and message would name "Recoup Wallet", the vendor's demo."""
        assert production(tmp_path).creditor_name == "乐还钱包"
        with pytest.raises(ConfigurationError, match="RECOUP_CREDITOR_NAME"):
            production(tmp_path, creditor_name=DEMO_CREDITOR)


def agency_deadlines() -> Guard:
    """The shipped packs and one binding only a third party in China, answering a complaint in
    5 days (China's own pack: 15). No shipped pack sets a different deadline per role, so the
    test brings one."""
    agency = parse_pack(
        {
            "pack": "TEST-AGENCY",
            "version": "1",
            "name": "an agency's shorter complaint deadline",
            "country": "CN",
            "jurisdictions": ["CN"],
            "collectors": ["third_party", "debt_buyer"],
            "rules": [],
            "deadlines": [
                {
                    "id": "test.deadline.complaint",
                    "case": "complaint",
                    "days": 5,
                    "title": "An agency answers a complaint within 5 days",
                    "citation": "test",
                    "confidence": "M",
                }
            ],
        },
        source="test",
    )
    return Guard((*shipped_packs(), agency), HousePolicy())


class TestMyRequestsFollowTheCollector:
    def test_the_answer_date_is_the_collectors_as_staff_see_it(
        self,
        session: Session,
        clock: SettableClock,
        anonymous: TestClient,
        settings: Settings,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """An account an agency collects: the debtor is promised the third party's deadline,
        the date the cases inbox gives staff, for a case on that account and for one on all
        accounts. Catches `collector="creditor"` back in `web.heard.my_requests` (the page said
        15 days while staff worked to 5)."""
        guard = agency_deadlines()
        monkeypatch.setattr("recoup.web.heard.deployment_guard", lambda _house_file: guard)
        on(clock, DAY0)
        customer = create_customer(session, clock, name="王芳")
        held = ledger_service.create_account(
            session,
            ledger_schemas.AccountCreate(
                external_ref="agency-held",
                customer_ref=customer.external_ref,
                product="bnpl",
                currency="CNY",
                opened_date=DAY0.replace(day=1),
                collector=Collector.agency,
            ),
            clock=clock,
        )
        add_bill(session, clock, held, DAY0.replace(day=10), 28_000)
        cases = [
            case_flows.open_case(
                session,
                customer.id,
                kind="complaint",
                reason="too_many_contacts",
                text=None,
                account_ref=ref,
                opened_by="debtor",
                channel="portal",
                clock=clock,
            )
            for ref in (held.external_ref, None)
        ]
        session.commit()
        staff = case_flows.due_dates(session, cases, guard=guard, clock=clock)
        assert {d.date for d in staff.values()} == {DAY0 + dt.timedelta(days=5)}
        path = link(settings, held, clock)
        for language, fmt in (("zh-CN", "long"), ("en", "medium")):
            page = anonymous.get(f"{path}/requests", params={"lang": language})
            assert page.status_code == 200
            promised = t(language, "case_due").format(
                date=format_date(DAY0 + dt.timedelta(days=5), fmt, locale=LOCALES[language])
            )
            creditors = t(language, "case_due").format(
                date=format_date(DAY0 + dt.timedelta(days=15), fmt, locale=LOCALES[language])
            )
            assert page.text.count(promised) == 2, language
            assert creditors not in page.text

    def test_a_creditors_account_keeps_the_creditors_deadline(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        guard = agency_deadlines()
        account = late(session, clock, "王芳", 50_000)
        case = case_flows.open_case(
            session,
            account.customer_id,
            kind="complaint",
            reason="too_many_contacts",
            text=None,
            account_ref=None,
            opened_by="debtor",
            channel="portal",
            clock=clock,
        )
        session.commit()
        due = case_flows.due_dates(session, [case], guard=guard, clock=clock)[case.id]
        assert due.days == 15
        assert due.rule == "cn.deadline.complaint"


# What only one country's reader may read: its law, its authorities, its emergency numbers.
COUNTRY_MARKS = {
    "CN": ("中国", "中國", "China", "征信业管理条例", "徵信業管理條例", "96110", "110"),
    "US": ("美国", "美國", "United States", "1681", "seven years"),
    "TW": ("台灣", "165"),
}


class TestArticlesSpeakTheReadersCountry:
    def test_no_shipped_article_tells_a_reader_another_countrys_facts(self) -> None:
        """Every shipped article and language, for readers in China, the US, Taiwan, the UK and
        the Philippines: no other country's law, authority or number. Before, the credit-record
        article told every Chinese reader China's five years and every English reader the US's
        seven; the fraud article gave China's 110 and 96110 to readers anywhere."""
        for article in education_service.shipped():
            for language, words in article["languages"].items():
                read = blocks(words["body"])
                for country in ("CN", "US", "TW", "GB", "PH"):
                    text = " ".join(line for b in for_country(read, country) for line in b.lines)
                    for other, marks in COUNTRY_MARKS.items():
                        if other != country:
                            found = [m for m in marks if m in text]
                            assert not found, (article["slug"], language, country, found)

    @pytest.mark.parametrize(
        ("jurisdiction", "language", "own", "neutral"),
        [
            ("CN", "zh-CN", "《征信业管理条例》第十六条", "不良记录只保留您所在地法律规定的年限"),
            ("US", "zh-CN", "在美国，逾期记录在信用报告中最多保留7年", "您所在地法律规定的年限"),
            ("GB", "zh-CN", None, "不良记录只保留您所在地法律规定的年限"),
            (
                "CN",
                "en",
                "In mainland China, negative credit information is kept for five years",
                "the law where you live",
            ),
            ("US", "en", "up to seven years (Fair Credit Reporting Act", "the law where you live"),
            ("GB", "en", None, "A late mark stays only as long as the law where you live allows"),
            ("CN", "zh-TW", "《徵信業管理條例》第十六條", "您所在地法律規定的年限"),
            ("PH", "zh-TW", None, "不良紀錄只保留您所在地法律規定的年限"),
        ],
    )
    def test_the_credit_record_article_gives_the_readers_own_countrys_period(
        self,
        session: Session,
        clock: SettableClock,
        anonymous: TestClient,
        settings: Settings,
        jurisdiction: str,
        language: str,
        own: str | None,
        neutral: str,
    ) -> None:
        """Catches the country filter dropped from `education.service.read` (every block shown
        to every reader)."""
        customer = create_customer(session, clock, jurisdiction=jurisdiction, name="王芳")
        account = create_account(session, clock, customer=customer)
        session.commit()
        path = link(settings, account, clock)
        page = anonymous.get(f"{path}/learn/credit-record", params={"lang": language})
        assert page.status_code == 200
        article = page.text.split('<article class="article">')[1]
        assert neutral in article
        if own is not None:
            assert own in article
        for other, marks in COUNTRY_MARKS.items():
            if other != jurisdiction.split("-")[0]:
                assert not [m for m in marks if m in article], (other, language)


class TestTheCountryMarker:
    def test_a_block_marked_for_countries_is_read_only_there(self) -> None:
        body = "For all.\n\n[[only CN]]\n## 中国\n在中国。\n\n[[only US GB]]\n- one\n- two\n\nAll again."
        parts = blocks(body)
        assert [(b.kind, b.countries) for b in parts] == [
            ("paragraph", ()),
            ("heading", ("CN",)),
            ("paragraph", ("CN",)),
            ("list", ("US", "GB")),
            ("paragraph", ()),
        ]
        assert [b.lines[0] for b in for_country(parts, "CN")] == [
            "For all.",
            "中国",
            "在中国。",
            "All again.",
        ]
        assert [b.lines[0] for b in for_country(parts, "gb")] == ["For all.", "one", "All again."]
        assert [b.lines[0] for b in for_country(parts, "PH")] == ["For all.", "All again."]

    @pytest.mark.parametrize(
        ("body", "said"),
        [
            ("Text.\n\n[[only China]]\nIn China.", "line 3: '[[only China]]' is not a marker"),
            ("Text.\n\n[[only XX]]\nNowhere.", "line 3: not a country code: XX"),
            ("Text.\n[[only CN]]\nIn China.", "line 2: [[only ...]] starts a block"),
            ("[[CN]]\nIn China.", "line 1: '[[CN]]' is not a marker"),
        ],
    )
    def test_a_marker_written_wrong_is_refused_with_its_line(
        self, session: Session, clock: SettableClock, body: str, said: str
    ) -> None:
        """Saved as written, the marker would be shown to every reader as text, and the
        country's facts with it."""
        with pytest.raises(ValidationFailed, match=re.escape(said)):
            education_service.save(
                session,
                "marker-test",
                language="en",
                title="A title",
                summary="A summary",
                body=body,
                author="lin",
                clock=clock,
            )


class TestConsentFollowsTheCollector:
    def test_an_agency_held_debtor_is_offered_the_consent_the_agency_needs(
        self,
        session: Session,
        clock: SettableClock,
        anonymous: TestClient,
        settings: Settings,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """A pack asking consent for texts of a third party only (no shipped pack differs by
        role today): the debtor whose account an agency holds is offered the box the guard will
        ask for at send time; a creditor's debtor is not. Catches the role fixed as "creditor"
        in `web.selfservice._consent_channels` (the page said no consent is needed)."""
        agency = parse_pack(
            {
                "pack": "TEST-AGENCY-CONSENT",
                "version": "1",
                "name": "an agency's texts need consent",
                "country": "CN",
                "jurisdictions": ["CN"],
                "collectors": ["third_party", "debt_buyer"],
                "rules": [
                    {
                        "id": "test.agency_sms_consent",
                        "kind": "consent",
                        "channels": ["sms"],
                        "accepts": ["electronic_consent"],
                        "title": "An agency texts only with consent",
                        "citation": "test",
                        "confidence": "M",
                    }
                ],
            },
            source="test",
        )
        guard = Guard((*shipped_packs(), agency), HousePolicy())
        monkeypatch.setattr("recoup.web.selfservice.deployment_guard", lambda _house_file: guard)
        on(clock, DAY0)
        offered = {}
        for collector in (Collector.agency, Collector.creditor):
            customer = create_customer(session, clock, name="王芳")
            account = ledger_service.create_account(
                session,
                ledger_schemas.AccountCreate(
                    external_ref=f"held-by-{collector}",
                    customer_ref=customer.external_ref,
                    product="bnpl",
                    currency="CNY",
                    opened_date=DAY0.replace(day=1),
                    collector=collector,
                ),
                clock=clock,
            )
            session.commit()
            path = link(settings, account, clock)
            verify(anonymous, session, settings, path, csrf(anonymous.get(f"{path}/verify").text))
            page = anonymous.get(f"{path}/preferences")
            assert page.status_code == 200
            offered[collector] = re.findall(r'name="consent" value="(\w+)"', page.text)
            anonymous.cookies.clear()
        assert offered == {Collector.agency: ["sms"], Collector.creditor: []}
