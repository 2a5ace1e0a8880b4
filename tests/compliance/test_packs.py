"""China, Europe and Asia packs, the house overlay, and how packs and scenarios are validated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from recoup.compliance import PackError, ScenarioError, load_guard
from recoup.compliance.packs import parse_pack, shipped_packs
from tests.compliance.helpers import call, codes, decide, rules, scenario, utc

pytestmark = pytest.mark.pure


def cn(at: str, channel: str = "call", **extra: object) -> dict:
    return scenario("CN", at, channel, **extra)


class TestChina:
    def test_evening_limit_is_2100_by_house_policy_and_2200_by_law(self) -> None:
        d = decide(cn("2026-06-16T21:30:00+08:00"))
        assert rules(d) == {"cn.hours.house", "house.hours"}
        assert d.next_allowed_at == utc("2026-06-17T08:00:00+08:00")
        floor = cn(
            "2026-06-16T21:30:00+08:00", house={"disable": ["cn.hours.house", "house.hours"]}
        )
        assert decide(floor).allowed
        floor["at"] = "2026-06-16T22:00:00+08:00"
        assert rules(decide(floor)) == {"cn.hours.legal"}

    def test_an_agreed_time_opens_the_evening(self) -> None:
        data = cn("2026-06-16T21:30:00+08:00")
        data["debtor"]["consents"] = [
            {
                "kind": "time_window",
                "from": "21:00",
                "to": "23:00",
                "given_at": "2026-06-01T12:00:00+08:00",
            }
        ]
        assert decide(data).allowed

    def test_rules_apply_every_day_including_public_holidays(self) -> None:
        assert decide(cn("2026-02-17T10:00:00+08:00")).allowed  # Spring Festival

    def test_three_effective_calls_a_day_ai_voice_included(self) -> None:
        history = [
            call("2026-06-16T09:00:00+08:00", "conversation"),
            {**call("2026-06-16T10:00:00+08:00", "conversation"), "channel": "ai_call"},
            call("2026-06-16T11:00:00+08:00", "conversation"),
        ]
        d = decide(cn("2026-06-16T15:00:00+08:00", history=history))
        assert rules(d) == {"cn.effective_calls"}
        assert d.next_allowed_at == utc("2026-06-17T08:00:00+08:00")
        sms = cn("2026-06-16T15:00:00+08:00", "sms", history=history)
        sms["content"] = {
            "text": "【Recoup Wallet】您的账单已到期，请及时处理。回复TD退订",
            "language": "zh-CN",
        }
        assert decide(sms).allowed

    def test_six_unanswered_attempts_a_day_per_number(self) -> None:
        number = "+8613812345678"
        history = [
            call(f"2026-06-16T{9 + h:02d}:00:00+08:00", "no_answer", address=number)
            for h in range(6)
        ]
        d = decide(cn("2026-06-16T16:30:00+08:00", history=history))
        assert rules(d) == {"cn.unanswered_attempts"}
        other = cn("2026-06-16T16:30:00+08:00", history=history, to="+8613912345678")
        other["debtor"]["phones"].append({"number": "+8613912345678", "type": "mobile"})
        assert decide(other).allowed

    def test_the_phone_book_and_unrelated_people_are_never_contacted(self) -> None:
        for role in ("phonebook_contact", "employer", "other_third_party"):
            d = decide(cn("2026-06-16T10:00:00+08:00", party={"role": role}, to="+8613700000000"))
            assert codes(d) == {"THIRD_PARTY"}, role
            assert "cn.parties" in rules(d), role

    def test_emergency_contact_only_when_the_debtor_is_unreachable(self) -> None:
        data = cn(
            "2026-06-17T10:00:00+08:00", party={"role": "emergency_contact"}, to="+8613700000000"
        )
        assert codes(decide(data)) == {"THIRD_PARTY"}
        data["history"] = [
            call(f"2026-06-16T{h:02d}:00:00+08:00", "no_answer", address="+8613812345678")
            for h in (9, 12, 15)
        ]
        assert decide(data).allowed  # the day after three consecutive unanswered calls
        data["content"] = {"text": "请转告他尽快联系我们，他的欠款已逾期。", "language": "zh-CN"}
        assert codes(decide(data)) == {"DISCLOSURE"}
        data.pop("content")
        data["party"]["refused"] = True
        assert codes(decide(data)) == {"THIRD_PARTY"}

    def test_a_spouse_only_with_evidence_of_a_household_debt(self) -> None:
        data = cn("2026-06-16T10:00:00+08:00", party={"role": "spouse"}, to="+8613700000000")
        assert codes(decide(data)) == {"THIRD_PARTY"}
        data["party"]["evidence"] = True
        assert decide(data).allowed

    def test_no_private_social_accounts(self) -> None:
        assert rules(decide(cn("2026-06-16T10:00:00+08:00", "social_dm"))) == {
            "cn.private_channels"
        }

    def test_an_agency_needs_the_handover_notice(self) -> None:
        data = cn("2026-06-16T10:00:00+08:00", collector={"role": "third_party"})
        assert rules(decide(data)) == {"cn.handover_notice"}
        data["collector"]["handover_notice_sent"] = True
        assert decide(data).allowed

    def test_chinese_content_checks(self) -> None:
        data = cn("2026-06-16T10:00:00+08:00", "sms")
        data["content"] = {
            "text": "再不还款，法院将立案并通知你单位。回复TD退订 Recoup Wallet",
            "language": "zh-CN",
        }
        d = decide(data)
        assert codes(d) == {"CONTENT_FORBIDDEN"}
        found = {t for r in d.reasons for t in r.detail["terms"]}
        assert found >= {"法院", "立案", "通知你单位"}
        data["content"]["text"] = "您的账单已逾期，请尽快还款。"
        assert rules(decide(data)) == {"cn.creditor_identity"}

    def test_an_sms_signature_names_the_sender(self) -> None:
        """CBA 2026 and regulation-rules A13: messages name the creditor (agencies must be
        identifiable). A Chinese SMS names its sender in its signature 【…】, whatever language the
        creditor's name on file is in. Catches removing `content.SIGNATURE` from the element check."""
        data = cn("2026-06-16T10:00:00+08:00", "sms")
        for text in (
            "【乐还钱包】您的账单已逾期，请尽快还款。回复TD退订",
            "您的账单已逾期，请尽快还款。回复TD退订【乐还钱包】",
            "【樂還錢包】您的帳單已逾期，請盡快還款。回覆TD退訂",
        ):
            data["content"] = {"text": text, "language": "zh-CN"}
            assert decide(data).allowed, text
        # Brackets inside the text are not a signature; neither is an empty one.
        for text in (
            "您的账单【已逾期】，请尽快还款。回复TD退订",
            "【】您的账单已逾期。回复TD退订",
        ):
            data["content"] = {"text": text, "language": "zh-CN"}
            assert rules(decide(data)) == {"cn.creditor_identity"}, text

    def test_traditional_chinese_is_checked_too(self) -> None:
        data = cn("2026-06-16T10:00:00+08:00", "sms")
        data["content"] = {"text": "Recoup Wallet：不還款就報警，警察會上門。", "language": "zh-TW"}
        assert codes(decide(data)) == {"CONTENT_FORBIDDEN"}


class TestTemplates:
    def test_a_template_is_checked_for_every_pack_it_may_be_used_in(self) -> None:
        from recoup.compliance import check_content
        from tests.compliance.helpers import GUARD

        text = (
            "Hi {{ first_name }}, {{ amount }} is due. Reply STOP to opt out. {{ creditor_name }}"
        )
        for jurisdiction in ("US", "CN", "GB"):
            assert (
                check_content(GUARD, text, language="en", channel="sms", jurisdiction=jurisdiction)
                == []
            )
        bad = "Pay now or the court will seize your car."
        found = check_content(GUARD, bad, language="en", channel="sms", jurisdiction="US")
        assert {r.rule for r in found} == {"base.abusive_content", "us.opt_out_instruction"}


class TestEurope:
    def test_great_britain_reasonable_hours_and_dispute(self) -> None:
        assert rules(decide(scenario("GB", "2026-06-16T21:30:00+01:00"))) == {
            "gb.hours",
            "house.hours",
        }
        data = scenario("GB", "2026-06-16T12:00:00+01:00")
        data["debtor"]["flags"] = ["dispute_open"]
        assert codes(decide(data)) == {"DISPUTE_PENDING"}
        employer = scenario("GB", "2026-06-16T12:00:00+01:00", party={"role": "employer"})
        assert rules(decide(employer)) == {"gb.parties"}

    def test_ireland_no_sundays_or_public_holidays_and_from_0900(self) -> None:
        sunday = decide(scenario("IE", "2026-06-14T12:00:00+01:00"))
        assert codes(sunday) == {"REST_DAY"}
        assert sunday.next_allowed_at == utc("2026-06-15T09:00:00+01:00")
        patrick = decide(scenario("IE", "2026-03-17T12:00:00+00:00"))
        assert rules(patrick) == {"ie.hours"}
        assert patrick.next_allowed_at == utc("2026-03-18T09:00:00+00:00")
        early = decide(scenario("IE", "2026-06-16T08:30:00+01:00"))
        assert early.next_allowed_at == utc("2026-06-16T09:00:00+01:00")

    def test_ireland_three_unsolicited_contacts_a_month(self) -> None:
        history = [call(f"2026-06-0{d}T10:00:00+01:00", "conversation") for d in (2, 3, 4)]
        d = decide(scenario("IE", "2026-06-16T12:00:00+01:00", history=history))
        assert rules(d) == {"ie.monthly"}
        assert d.next_allowed_at == utc("2026-07-01T09:00:00+01:00")

    def test_netherlands_evenings_sundays_holidays(self) -> None:
        nl = "NL"
        collector = {"role": "third_party"}
        evening = decide(scenario(nl, "2026-06-16T20:00:00+02:00", collector=collector))
        assert rules(evening) == {"nl.hours"}
        assert codes(decide(scenario(nl, "2026-06-14T12:00:00+02:00", collector=collector))) == {
            "REST_DAY"
        }
        kings_day = decide(scenario(nl, "2026-04-27T12:00:00+02:00", collector=collector))
        assert codes(kings_day) == {"REST_DAY"}

    def test_greece_weekdays_one_call_in_two_days_not_in_the_first_ten_days(self) -> None:
        collector = {"role": "third_party"}
        saturday = decide(scenario("GR", "2026-06-13T12:00:00+03:00", collector=collector))
        assert rules(saturday) == {"gr.hours"}
        assert codes(saturday) == {"REST_DAY"}
        assert saturday.next_allowed_at == utc("2026-06-15T09:00:00+03:00")
        yesterday = [call("2026-06-15T10:00:00+03:00", "no_answer")]
        d = decide(
            scenario("GR", "2026-06-16T12:00:00+03:00", collector=collector, history=yesterday)
        )
        assert rules(d) == {"gr.calls"}
        assert d.next_allowed_at == utc("2026-06-17T09:00:00+03:00")
        early = scenario("GR", "2026-06-16T12:00:00+03:00", collector=collector)
        early["debt"]["days_past_due"] = 5
        d = decide(early)
        assert rules(d) == {"gr.first_days"}
        assert d.next_allowed_at == utc("2026-06-22T09:00:00+03:00")  # 11 days past due


class TestAsia:
    def test_india_until_1900_and_no_family(self) -> None:
        assert rules(decide(scenario("IN", "2026-06-16T19:30:00+05:30"))) == {"in.hours"}
        spouse = scenario("IN", "2026-06-16T12:00:00+05:30", party={"role": "spouse"})
        assert rules(decide(spouse)) == {"in.parties"}

    def test_philippines_hours_waived_past_15_days_or_60_for_cards(self) -> None:
        house = {"disable": ["house.hours"]}
        early = scenario("PH", "2026-06-16T05:30:00+08:00", house=house)
        early["debt"]["days_past_due"] = 10
        assert rules(decide(early)) == {"ph.hours"}
        early["debt"]["days_past_due"] = 16
        assert decide(early).allowed
        early["debt"].update(product="credit_card", days_past_due=30)
        assert rules(decide(early)) == {"ph.hours"}
        early["debt"]["days_past_due"] = 61
        assert decide(early).allowed

    def test_philippines_contact_list_only_guarantors_and_co_makers(self) -> None:
        for role, allowed in (
            ("guarantor", True),
            ("co_maker", True),
            ("phonebook_contact", False),
        ):
            data = scenario(
                "PH", "2026-06-16T12:00:00+08:00", party={"role": role}, to="+639170000000"
            )
            assert decide(data).allowed is allowed, role
        spouse = scenario(
            "PH", "2026-06-16T12:00:00+08:00", party={"role": "spouse"}, to="+639170000000"
        )
        assert rules(decide(spouse)) == {"ph.parties"}

    def test_indonesia_monday_to_saturday_in_every_zone(self) -> None:
        assert codes(decide(scenario("ID", "2026-06-14T12:00:00+07:00"))) == {"REST_DAY"}
        assert codes(decide(scenario("ID", "2026-06-16T12:00:00+07:00"))) == {
            "REST_DAY"
        }  # 1 Muharram
        assert codes(decide(scenario("ID", "2026-08-17T12:00:00+07:00"))) == {"REST_DAY"}
        both = scenario("ID", "2026-06-16T19:30:00+07:00")
        both["debtor"]["zones"] = ["Asia/Jakarta", "Asia/Jayapura"]
        d = decide(both)  # 21:30 in Jayapura
        assert "id.hours" in rules(d)
        assert d.next_allowed_at == utc(
            "2026-06-17T08:00:00+07:00"
        )  # 08:00 in Jakarta, 10:00 in Jayapura

    def test_indonesia_emergency_contacts_only_to_locate(self) -> None:
        data = scenario(
            "ID",
            "2026-06-18T12:00:00+07:00",
            party={"role": "emergency_contact"},
            to="+6281200000000",
        )
        assert rules(decide(data)) == {"id.parties"}
        data["debtor"]["unreachable_since"] = "2026-06-10T00:00:00+07:00"
        assert decide(data).allowed
        guarantor = scenario(
            "ID", "2026-06-18T12:00:00+07:00", party={"role": "guarantor"}, to="+6281200000000"
        )
        assert rules(decide(guarantor)) == {"id.parties"}

    def test_vietnam_five_reminders_a_day(self) -> None:
        history = [
            {"at": f"2026-06-16T0{h}:00:00+07:00", "channel": "sms", "result": "delivered"}
            for h in range(7, 10)
        ] + [call(f"2026-06-16T1{h}:00:00+07:00", "no_answer") for h in range(2)]
        d = decide(scenario("VN", "2026-06-16T15:00:00+07:00", history=history))
        assert rules(d) == {"vn.daily"}
        assert rules(decide(scenario("VN", "2026-06-16T06:30:00+07:00"))) == {
            "vn.hours",
            "house.hours",
        }

    def test_thailand_weekend_and_holiday_window_and_one_contact_a_day(self) -> None:
        assert rules(decide(scenario("TH", "2026-06-13T19:00:00+07:00"))) == {"th.hours"}
        assert decide(scenario("TH", "2026-06-16T19:00:00+07:00")).allowed
        assert rules(decide(scenario("TH", "2026-04-13T19:00:00+07:00"))) == {"th.hours"}
        once = [call("2026-06-16T09:00:00+07:00", "no_answer")]
        assert rules(decide(scenario("TH", "2026-06-16T15:00:00+07:00", history=once))) == {
            "th.daily"
        }


class TestPartiesElsewhere:
    @pytest.mark.parametrize(
        ("jurisdiction", "at", "rule"),
        [
            ("IE", "2026-06-16T12:00:00+01:00", "ie.parties"),
            ("GR", "2026-06-16T12:00:00+03:00", "gr.parties"),
            ("VN", "2026-06-16T12:00:00+07:00", "vn.parties"),
        ],
    )
    def test_family_and_employers_are_not_contacted(
        self, jurisdiction: str, at: str, rule: str
    ) -> None:
        for role in ("spouse", "employer"):
            data = scenario(
                jurisdiction, at, party={"role": role}, collector={"role": "third_party"}
            )
            assert rule in rules(decide(data)), (jurisdiction, role)
        guarantor = scenario(
            jurisdiction, at, party={"role": "guarantor"}, collector={"role": "third_party"}
        )
        assert decide(guarantor).allowed

    def test_thailand_others_only_to_locate_without_the_debt(self) -> None:
        data = scenario(
            "TH", "2026-06-16T12:00:00+07:00", "call", party={"role": "employer"}, to="+66800000000"
        )
        assert decide(data).allowed
        data["content"] = {
            "text": "Please tell him his overdue debt must be paid.",
            "language": "en",
        }
        assert codes(decide(data)) == {"DISCLOSURE"}
        designated = scenario(
            "TH",
            "2026-06-16T12:00:00+07:00",
            party={"role": "emergency_contact"},
            to="+66800000000",
        )
        assert rules(decide(designated)) == {"th.parties"}
        designated["party"]["designated"] = True
        assert decide(designated).allowed


class TestHousePolicy:
    def test_a_house_rule_makes_things_stricter(self) -> None:
        house = {
            "rules": [
                {
                    "id": "acme.no_sundays",
                    "kind": "hours",
                    "title": "No contact on Sundays",
                    "window": {"from": "00:00", "to": "24:00"},
                    "days": ["mon", "tue", "wed", "thu", "fri", "sat"],
                }
            ]
        }
        d = decide(cn("2026-06-14T10:00:00+08:00", house=house))
        assert rules(d) == {"acme.no_sundays"}
        assert d.reasons[0].confidence == "house"
        assert "house" in d.packs

    def test_a_house_rule_in_chinese_working_days_follows_the_adjusted_calendar(self) -> None:
        house = {
            "rules": [
                {
                    "id": "acme.workdays",
                    "kind": "hours",
                    "title": "Working days only",
                    "window": {"from": "09:00", "to": "18:00"},
                    "working_days": True,
                }
            ]
        }
        makeup = decide(cn("2026-02-14T10:00:00+08:00", house=house))  # a Saturday worked (调休)
        assert makeup.allowed
        sunday = decide(cn("2026-02-15T10:00:00+08:00", house=house))
        assert rules(sunday) == {"acme.workdays"}
        assert codes(sunday) == {"REST_DAY"}
        assert sunday.next_allowed_at == utc(
            "2026-02-24T09:00:00+08:00"
        )  # after the Spring Festival
        assert rules(decide(cn("2026-10-10T10:00:00+08:00", house=house))) == set()  # 调休 Saturday

    def test_a_redial_within_the_hour_waits(self) -> None:
        history = [call("2026-06-16T10:20:00+08:00", "no_answer", address="+8613812345678")]
        d = decide(cn("2026-06-16T10:50:00+08:00", history=history))
        assert rules(d) == {"house.redial_gap"}
        assert d.next_allowed_at == utc("2026-06-16T11:20:00+08:00")

    def test_law_cannot_be_switched_off(self) -> None:
        with pytest.raises(ScenarioError, match="is law"):
            decide(cn("2026-06-16T10:00:00+08:00", house={"disable": ["cn.hours.legal"]}))
        with pytest.raises(PackError, match="is law"):
            load_guard({"disable": ["us.calls_7_in_7"]})

    def test_a_house_policy_with_unknown_keys_is_refused(self) -> None:
        with pytest.raises(PackError, match="unknown key"):
            load_guard({"rulez": []})


class TestPlaces:
    def test_not_at_work_applies_to_the_work_number_only(self) -> None:
        data = scenario("GB", "2026-06-16T12:00:00+01:00", to="+442071234567")
        data["debtor"]["phones"].append({"number": "+442071234567", "type": "work"})
        data["debtor"]["inconvenient"] = [{"place": "work"}]
        d = decide(data)
        assert codes(d) == {"DEBTOR_INCONVENIENT"}
        assert d.next_allowed_at is None  # never at work: waiting does not help
        data["to"] = data["debtor"]["phones"][0]["number"]
        assert decide(data).allowed

    def test_area_codes_that_straddle_zones_bring_both(self) -> None:
        data = scenario("US", "2026-06-16T08:30:00-04:00", house={"extend_scope": True})
        data["debtor"]["zones"] = []
        del data["debtor"]["address"]
        data["debtor"]["phones"] = [
            {"number": "+18505550100", "type": "mobile"}
        ]  # Florida panhandle
        d = decide(data)
        assert set(d.zones) == {"America/New_York", "America/Chicago"}
        assert d.next_allowed_at == utc("2026-06-16T09:00:00-04:00")  # 08:00 Central


class TestValidation:
    def test_every_shipped_rule_is_exercised_by_a_test(self) -> None:
        here = Path(__file__).parent
        text = "".join(p.read_text(encoding="utf-8") for p in here.glob("test_*.py"))
        missing = [r.id for p in shipped_packs() for r in p.rules if f'"{r.id}"' not in text]
        assert missing == []

    def test_every_shipped_rule_has_a_citation_and_confidence(self) -> None:
        packs = shipped_packs()
        assert {p.id for p in packs} >= {
            "CN",
            "US",
            "US-MA",
            "US-WA",
            "US-NY-NYC",
            "GB",
            "IE",
            "NL",
            "GR",
            "IN",
            "PH",
            "ID",
            "VN",
            "TH",
            "BASE",
            "HOUSE",
        }
        for rule in (r for p in packs for r in p.rules):
            assert rule.citation, rule.id
            assert rule.confidence in ("P", "S", "M", "house"), rule.id
            assert rule.title_zh, rule.id

    def test_a_bad_pack_names_the_file_rule_and_field(self) -> None:
        bad = {
            "pack": "XX",
            "version": "1",
            "name": "x",
            "jurisdictions": ["XX"],
            "rules": [
                {
                    "id": "xx.hours",
                    "kind": "hours",
                    "title": "t",
                    "citation": "c",
                    "confidence": "P",
                    "window": {"from": "25:00", "to": "21:00"},
                }
            ],
        }
        with pytest.raises(PackError, match=r"packs/xx.yaml: rules\[0\] \(xx.hours\): window.from"):
            parse_pack(bad, source="packs/xx.yaml")
        bad["rules"][0]["kind"] = "hourz"
        with pytest.raises(PackError, match="kind 'hourz' is not one of"):
            parse_pack(bad, source="packs/xx.yaml")

    def test_cites_are_kept_per_country_and_language(self) -> None:
        """A rule's `cites` (what a debtor in one country is shown as the law): a string is the
        same in both languages; a key that is not a country code, or no `en`, is refused."""
        doc: dict[str, Any] = {
            "pack": "XX",
            "version": "1",
            "name": "x",
            "jurisdictions": ["*"],
            "rules": [
                {
                    "id": "xx.opt_out",
                    "kind": "opt_out",
                    "title": "t",
                    "citation": "12 CFR 1006.6(c); PIPL Art. 15",
                    "confidence": "P",
                    "cites": {"US": "12 CFR 1006.6(c)", "CN": {"en": "PIPL", "zh": "个保法"}},
                }
            ],
        }
        rule = parse_pack(doc, source="packs/xx.yaml").rules[0]
        assert rule.cites == {
            "US": {"en": "12 CFR 1006.6(c)", "zh": "12 CFR 1006.6(c)"},
            "CN": {"en": "PIPL", "zh": "个保法"},
        }
        assert isinstance(hash(rule), int)  # `cites` leaves a rule hashable, as it was
        doc["rules"][0]["cites"] = {"china": "PIPL"}
        with pytest.raises(PackError, match=r"\(xx.opt_out\): cites is keyed by country code"):
            parse_pack(doc, source="packs/xx.yaml")
        doc["rules"][0]["cites"] = {"CN": {"zh": "个保法"}}
        with pytest.raises(PackError, match=r"cites\.CN is a citation"):
            parse_pack(doc, source="packs/xx.yaml")

    def test_a_bad_scenario_names_the_field(self) -> None:
        data = cn("2026-06-16T10:00:00+08:00")
        data["debtor"]["consents"] = [{"kind": "call_back", "given_at": "yesterday"}]
        with pytest.raises(ScenarioError, match=r"debtor.consents\[0\].given_at"):
            decide(data)
        data = cn("2026-06-16T10:00:00")
        with pytest.raises(ScenarioError, match="needs a UTC offset"):
            decide(data)
        data = cn("2026-06-16T10:00:00+08:00", "pigeon")
        with pytest.raises(ScenarioError, match="channel: 'pigeon' is not one of"):
            decide(data)
        data = cn("2026-06-16T10:00:00+08:00")
        data["debtor"]["zones"] = ["Mars/Olympus"]
        with pytest.raises(ScenarioError, match="not an IANA time zone"):
            decide(data)
