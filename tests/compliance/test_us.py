"""Regulation F and the state overlays, with the official commentary's worked examples."""

from __future__ import annotations

import pytest

from recoup.compliance import ScenarioError
from tests.compliance.helpers import EMAIL, call, codes, decide, rules, scenario, utc

pytestmark = pytest.mark.pure


def us(at: str, channel: str = "call", **extra: object) -> dict:
    return scenario("US", at, channel, **extra)


class TestInconvenientTimes:
    """1006.6(b)(1)(i) and comment 6(b)(1)(i)-2: convenient in every place the debtor might be."""

    def eastern_mobile_pacific_address(self, at: str) -> dict:
        data = us(at)
        data["debtor"]["zones"] = []  # inferred from the phone and the address
        data["debtor"]["address"] = {"country": "US", "region": "CA", "postal_code": "94105"}
        return data

    def test_example_i_window_is_11_to_21_eastern(self) -> None:
        early = decide(self.eastern_mobile_pacific_address("2026-06-16T10:59:00-04:00"))
        assert early.zones == ("America/Los_Angeles", "America/New_York")
        assert "us.hours" in rules(early)
        assert early.next_allowed_at == utc("2026-06-16T11:00:00-04:00")  # 08:00 Pacific
        assert decide(self.eastern_mobile_pacific_address("2026-06-16T11:00:00-04:00")).allowed
        assert decide(self.eastern_mobile_pacific_address("2026-06-16T20:59:00-04:00")).allowed
        late = decide(self.eastern_mobile_pacific_address("2026-06-16T21:00:00-04:00"))
        assert codes(late) == {"OUTSIDE_HOURS"}
        assert late.next_allowed_at == utc("2026-06-17T11:00:00-04:00")

    def test_example_ii_mountain_landline_window_is_10_to_21_eastern(self) -> None:
        data = us("2026-06-16T09:59:00-04:00")
        data["debtor"]["zones"] = []
        del data["debtor"]["address"]  # a country alone would bring in every US zone
        data["debtor"]["phones"] = [
            {"number": "+12125550100", "type": "mobile"},
            {"number": "+13035550100", "type": "home"},
        ]
        blocked = decide(data)
        assert set(blocked.zones) == {"America/New_York", "America/Denver"}
        assert blocked.next_allowed_at == utc("2026-06-16T10:00:00-04:00")  # 08:00 Mountain
        data["at"] = "2026-06-16T20:30:00-04:00"
        assert decide(data).allowed  # 18:30 Mountain

    def test_an_email_is_timed_when_it_is_sent(self) -> None:
        data = us("2026-06-16T22:15:00-04:00", "email", to=EMAIL)
        data["debtor"]["consents"] = [
            {"kind": "electronic", "channel": "email", "given_at": "2026-05-01T09:00:00-04:00"}
        ]
        d = decide(data)
        assert codes(d) == {"OUTSIDE_HOURS"}
        assert d.next_allowed_at == utc("2026-06-17T08:00:00-04:00")

    def test_times_the_debtor_called_inconvenient_are_kept(self) -> None:
        data = us("2026-06-19T16:00:00-04:00")  # a Friday
        data["debtor"]["inconvenient"] = [{"days": ["fri"], "from": "15:00", "to": "17:00"}]
        d = decide(data)
        assert rules(d) == {"base.inconvenient"}
        assert d.next_allowed_at == utc("2026-06-19T17:00:00-04:00")
        data["at"] = "2026-06-18T16:00:00-04:00"  # Thursday
        assert decide(data).allowed

    def test_a_time_window_consent_opens_hours_the_rule_forbids(self) -> None:
        data = us("2026-06-16T22:30:00-04:00")
        data["debtor"]["consents"] = [
            {
                "kind": "time_window",
                "from": "22:00",
                "to": "23:00",
                "given_at": "2026-06-10T12:00:00-04:00",
            }
        ]
        assert decide(data).allowed
        data["at"] = "2026-06-16T23:15:00-04:00"
        d = decide(data)
        assert d.next_allowed_at == utc("2026-06-17T08:00:00-04:00")


class TestSevenCallsInSevenDays:
    """1006.14(b)(2)(i)(A), (b)(3), comments 14(b)(3)(ii)-1, 14(b)(2)(i)-3."""

    def week(self, result: str = "no_answer", **extra: object) -> list[dict]:
        return [call(f"2026-06-0{d}T10:00:00-04:00", result, **extra) for d in range(1, 8)]

    def test_the_eighth_call_in_seven_days_waits_for_the_oldest_to_age_out(self) -> None:
        data = us("2026-06-07T15:00:00-04:00", history=self.week())
        d = decide(data)
        assert "us.calls_7_in_7" in rules(d)
        assert codes(d) == {"FREQUENCY_CAP"}
        assert d.next_allowed_at == utc("2026-06-08T08:00:00-04:00")  # June 1 left the window
        data["at"] = "2026-06-08T10:00:00-04:00"
        assert decide(data).allowed

    def test_calls_not_connected_do_not_count(self) -> None:
        busy = [call(f"2026-06-0{d}T10:00:00-04:00", "busy") for d in range(1, 8)]
        assert decide(us("2026-06-07T15:00:00-04:00", history=busy)).allowed

    def test_calls_later_found_misdirected_do_not_count(self) -> None:
        data = us(
            "2026-06-07T15:00:00-04:00", history=self.week(misdirected=True, address="+12125550111")
        )
        assert decide(data).allowed

    def test_calls_made_with_prior_consent_do_not_count(self) -> None:
        data = us("2026-06-07T15:00:00-04:00", history=self.week())
        data["debtor"]["consents"] = [
            {"kind": "call_back", "given_at": "2026-06-01T09:00:00-04:00"}
        ]
        d = decide(data)
        # The consent covers June 1 to 7 (day 1 is the day it was given): every call is excluded
        # and the planned one is made with consent too.
        assert "us.calls_7_in_7" not in rules(d)

    def test_the_house_cap_per_person_excludes_what_the_law_it_extends_excludes(self) -> None:
        """regulation-rules A5: the house's per-person cap extends Reg F's 7-in-7, so calls made
        with prior consent given directly (1006.14(b)(3)) are not counted there either. Catches
        removing `extends: us.calls_7_in_7` from house.yaml (the consented calls would count)."""
        data = us("2026-06-07T15:00:00-04:00", history=self.week())
        data["debtor"]["consents"] = [
            {"kind": "call_back", "given_at": "2026-06-01T09:00:00-04:00"}
        ]
        assert decide(data).allowed

    def test_a_house_file_may_count_what_the_law_excludes(self) -> None:
        """Unless the house file says otherwise: a deployment's cap that extends the law but states
        `exclude_consented: false` counts the consented calls."""
        data = us("2026-06-07T15:00:00-04:00", history=self.week())
        data["debtor"]["consents"] = [
            {"kind": "call_back", "given_at": "2026-06-01T09:00:00-04:00"}
        ]
        data["house"] = {
            "disable": ["house.calls_per_person_7d"],
            "rules": [
                {
                    "id": "acme.calls_per_person",
                    "kind": "cap",
                    "title": "Seven calls a week to a person, consented ones included",
                    "extends": "us.calls_7_in_7",
                    "channels": ["call"],
                    "counts": {"channels": ["call"], "exclude_consented": False},
                    "exempt_with_consent": False,
                    "scope": ["debtor"],
                    "window": {"kind": "days", "n": 7},
                    "max": 7,
                }
            ],
        }
        assert rules(decide(data)) == {"acme.calls_per_person"}
        data["house"]["rules"][0]["extends"] = "us.no_such_rule"
        with pytest.raises(ScenarioError, match="not a cap rule"):
            decide(data)

    def test_counts_are_per_debt_with_a_house_cap_per_person(self) -> None:
        other = [call(f"2026-06-0{d}T10:00:00-04:00", debt_ids=["d2"]) for d in range(1, 8)]
        data = us("2026-06-07T15:00:00-04:00", history=other)
        d = decide(data)
        assert rules(d) == {"house.calls_per_person_7d"}  # Reg F counts d1 only
        data["house"] = {"disable": ["house.calls_per_person_7d"]}
        assert decide(data).allowed


class TestConversationCooldown:
    """1006.14(b)(2)(i)(B): no call within 7 days after a conversation, its date being day 1."""

    def test_calls_wait_seven_days_after_a_conversation(self) -> None:
        history = [call("2026-06-02T10:00:00-04:00", "conversation")]
        d = decide(us("2026-06-08T12:00:00-04:00", history=history))
        assert rules(d) == {"us.conversation_cooldown"}
        assert d.next_allowed_at == utc("2026-06-09T08:00:00-04:00")
        assert decide(us("2026-06-09T08:00:00-04:00", history=history)).allowed

    def test_a_conversation_the_debtor_started_counts_too(self) -> None:
        """1006.14(b)(2)(i)(B) speaks of "a telephone conversation" about the debt, whoever placed
        the call. Catches a cool-down that counts outbound events only (the default for caps)."""
        history = [{**call("2026-06-02T10:00:00-04:00", "conversation"), "direction": "inbound"}]
        d = decide(us("2026-06-08T12:00:00-04:00", history=history))
        assert rules(d) == {"us.conversation_cooldown"}
        assert d.next_allowed_at == utc("2026-06-09T08:00:00-04:00")

    def test_an_inbound_call_is_not_a_call_the_collector_placed(self) -> None:
        """The 7-in-7 counts calls placed by the collector (1006.14(b)(2)(i)(A)): the debtor's
        own calls that were not conversations do not count."""
        history = [
            {**call(f"2026-06-0{d}T10:00:00-04:00", "no_answer"), "direction": "inbound"}
            for d in range(1, 8)
        ]
        assert decide(us("2026-06-07T15:00:00-04:00", history=history)).allowed

    def test_a_text_is_not_a_call(self) -> None:
        history = [call("2026-06-02T10:00:00-04:00", "conversation")]
        data = us("2026-06-03T12:00:00-04:00", "sms", history=history)
        data["debtor"]["consents"] = [{"kind": "electronic", "given_at": "2026-05-01T00:00:00Z"}]
        data["content"] = {
            "text": "Hi, your bill is ready. Reply STOP to opt out.",
            "language": "en",
        }
        assert decide(data).allowed

    def test_a_call_back_the_debtor_asked_for_is_allowed_until_the_next_conversation(self) -> None:
        history = [call("2026-06-02T10:00:00-04:00", "conversation")]
        data = us("2026-06-04T12:00:00-04:00", history=history)
        data["debtor"]["consents"] = [
            {"kind": "call_back", "given_at": "2026-06-02T10:00:00-04:00"}
        ]
        assert decide(data).allowed
        data["history"] = [*history, call("2026-06-04T12:00:00-04:00", "conversation")]
        data["at"] = "2026-06-05T12:00:00-04:00"
        d = decide(data)
        assert codes(d) == {"CONVERSATION_COOLDOWN"}
        assert d.next_allowed_at == utc("2026-06-11T08:00:00-04:00")

    def test_prior_consent_lasts_at_most_seven_days(self) -> None:
        history = [call("2026-06-09T10:00:00-04:00", "conversation", debt_ids=["d1"])]
        data = us("2026-06-10T12:00:00-04:00", history=history)
        data["debtor"]["consents"] = [
            {
                "kind": "call_back",
                "given_at": "2026-06-01T09:00:00-04:00",
                "until": "2026-06-30T00:00:00-04:00",
            }
        ]
        assert codes(decide(data)) == {"CONVERSATION_COOLDOWN"}


class TestElectronicMessages:
    def sms(self, **extra: object) -> dict:
        data = us("2026-06-16T12:00:00-04:00", "sms", **extra)
        data["content"] = {"text": "Your payment is due. Reply STOP to opt out.", "language": "en"}
        return data

    def test_a_text_needs_consent_or_recent_use_of_the_number(self) -> None:
        assert codes(decide(self.sms())) == {"NO_CONSENT"}
        inbound = {
            "at": "2026-05-20T12:00:00-04:00",
            "channel": "sms",
            "direction": "inbound",
            "result": "delivered",
            "address": "+12125550100",
        }
        assert decide(self.sms(history=[inbound])).allowed
        stale = {**inbound, "at": "2026-04-10T12:00:00-04:00"}
        assert codes(decide(self.sms(history=[stale]))) == {"NO_CONSENT"}

    def test_consent_is_scoped_to_its_channel_and_address(self) -> None:
        data = self.sms()
        data["debtor"]["consents"] = [
            {
                "kind": "electronic",
                "channel": "email",
                "address": EMAIL,
                "given_at": "2026-05-01T00:00:00Z",
            }
        ]
        assert codes(decide(data)) == {"NO_CONSENT"}
        data["debtor"]["consents"][0].update(channel="sms", address="+12125550100")
        assert decide(data).allowed
        data["debtor"]["consents"][0]["until"] = "2026-06-01T00:00:00Z"
        assert codes(decide(data)) == {"NO_CONSENT"}

    def test_every_electronic_message_says_how_to_opt_out(self) -> None:
        data = self.sms()
        data["debtor"]["consents"] = [{"kind": "electronic", "given_at": "2026-05-01T00:00:00Z"}]
        data["content"]["text"] = "Your payment is due."
        d = decide(data)
        assert codes(d) == {"CONTENT_MISSING"}
        assert rules(d) == {"us.opt_out_instruction"}

    def test_an_employer_address_needs_the_debtors_consent(self) -> None:
        data = us("2026-06-16T12:00:00-04:00", "email", to="j.doe@employer.example")
        data["debtor"]["emails"] = [{"address": "j.doe@employer.example", "type": "work"}]
        data["content"] = {"text": "Please contact us. Click here to opt out.", "language": "en"}
        assert rules(decide(data)) == {"us.electronic_address", "us.employer_email"}

    def test_an_opt_out_bars_that_number_for_texts_only(self) -> None:
        data = self.sms()
        data["debtor"]["consents"] = [{"kind": "electronic", "given_at": "2026-05-01T00:00:00Z"}]
        data["debtor"]["opt_outs"] = [{"channel": "sms", "address": "+12125550100"}]
        d = decide(data)
        assert rules(d) == {"base.opt_out"}
        assert d.next_allowed_at is None
        data["channel"] = "call"
        data.pop("content")
        assert decide(data).allowed

    def test_stop_calling_covers_every_voice_channel(self) -> None:
        data = us("2026-06-16T12:00:00-04:00", "ai_call")
        data["debtor"]["opt_outs"] = [{"channel": "call"}]
        assert codes(decide(data)) == {"OPTED_OUT"}


class TestCeaseDisputeAndStatus:
    def test_a_written_cease_stops_everything(self) -> None:
        data = us("2026-06-16T23:00:00-04:00")
        data["debtor"]["flags"] = ["cease_requested"]
        d = decide(data)
        assert codes(d) == {"CEASE", "OUTSIDE_HOURS"}  # every reason, not the first
        assert rules(d) == {"base.cease", "us.hours", "house.hours"}
        assert d.next_allowed_at is None

    def test_a_dispute_pauses_collection(self) -> None:
        data = us("2026-06-16T12:00:00-04:00")
        data["debtor"]["flags"] = ["dispute_open"]
        assert rules(decide(data)) == {"base.dispute"}

    @pytest.mark.parametrize(
        "flag", ["deceased", "bankrupt", "attorney", "vulnerable", "hardship_review"]
    )
    def test_account_status_stops_automated_contact(self, flag: str) -> None:
        data = us("2026-06-16T12:00:00-04:00")
        data["debtor"]["flags"] = [flag]
        assert rules(decide(data)) == {"base.account_status"}

    def test_a_represented_debtors_attorney_may_be_contacted(self) -> None:
        data = us("2026-06-16T12:00:00-04:00", party={"role": "attorney"})
        data["debtor"]["flags"] = ["attorney"]
        assert decide(data).allowed


class TestThirdParties:
    def test_the_spouse_is_the_consumer(self) -> None:
        assert decide(us("2026-06-16T12:00:00-04:00", party={"role": "spouse"})).allowed

    def test_a_location_contact_happens_once_and_never_mentions_the_debt(self) -> None:
        data = us(
            "2026-06-16T12:00:00-04:00", "call", party={"role": "employer"}, to="+12125550177"
        )
        data["content"] = {
            "text": "We are trying to reach John about his overdue payment.",
            "language": "en",
        }
        assert codes(decide(data)) == {"DISCLOSURE"}
        data["content"]["text"] = (
            "We are confirming contact details for John; please ask him to call us."
        )
        assert decide(data).allowed
        data["history"] = [
            {
                "at": "2026-06-10T12:00:00-04:00",
                "channel": "call",
                "result": "conversation",
                "party": "employer",
                "address": "+12125550177",
            }
        ]
        assert rules(decide(data)) == {"us.parties"}

    def test_the_phone_book_is_never_used(self) -> None:
        data = us(
            "2026-06-16T12:00:00-04:00", party={"role": "phonebook_contact"}, to="+12125550188"
        )
        assert rules(decide(data)) == {"base.parties"}

    def test_a_known_wrong_number_is_not_called(self) -> None:
        data = us("2026-06-16T12:00:00-04:00")
        data["debtor"]["phones"][0]["wrong_party"] = True
        assert rules(decide(data)) == {"base.wrong_party"}


class TestContent:
    def test_no_public_posts(self) -> None:
        assert "base.public_posts" in rules(decide(us("2026-06-16T12:00:00-04:00", "social_post")))

    def test_threats_and_false_legal_claims_are_named(self) -> None:
        data = us("2026-06-16T12:00:00-04:00", "letter")
        data["content"] = {"text": "Pay today or the police will arrest you.", "language": "en"}
        d = decide(data)
        assert rules(d) == {"base.abusive_content"}
        assert {t for r in d.reasons for t in r.detail["terms"]} == {"police", "arrest"}

    def test_no_threat_of_suit_on_a_time_barred_debt(self) -> None:
        data = us("2026-06-16T12:00:00-04:00", "letter")
        data["content"] = {"text": "If you do not pay we will file a lawsuit.", "language": "en"}
        assert decide(data).allowed
        data["debt"]["time_barred"] = True
        assert rules(decide(data)) == {"base.no_suit_time_barred"}

    def test_a_voicemail_does_not_mention_the_debt(self) -> None:
        data = us("2026-06-16T12:00:00-04:00", "voicemail")
        data["content"] = {
            "text": "This is Robin from ABC about your overdue balance.",
            "language": "en",
        }
        assert rules(decide(data)) == {"base.voicemail_limited"}
        data["content"]["text"] = (
            "Hi, this is Robin Smith from ABC Inc. Please call 1-800-555-1212."
        )
        assert decide(data).allowed

    def test_an_agency_says_it_is_a_debt_collector(self) -> None:
        data = us("2026-06-16T12:00:00-04:00", "letter", collector={"role": "third_party"})
        data["content"] = {"text": "Please pay your balance.", "language": "en"}
        assert rules(decide(data)) == {"us.debt_collector_disclosure"}
        data["content"]["text"] = "This is a communication from a debt collector. Please pay."
        assert decide(data).allowed


class TestScope:
    def test_reg_f_applies_to_first_party_collection_as_a_house_policy(self) -> None:
        data = us("2026-06-16T07:30:00-04:00")
        assert "US@2026.12.0" in decide(data).packs
        data["house"] = {"extend_scope": False}
        d = decide(data)
        assert not any(p.startswith("US@") for p in d.packs)
        assert rules(d) == {"house.hours"}  # the house window still holds


class TestStates:
    def test_massachusetts_two_calls_or_texts_in_seven_days_per_debt(self) -> None:
        history = [
            call("2026-06-10T10:00:00-04:00"),
            call("2026-06-12T10:00:00-04:00", "voicemail"),
        ]
        d = decide(scenario("US-MA", "2026-06-15T12:00:00-04:00", history=history))
        assert rules(d) == {"us_ma.calls_texts_home"}
        assert d.next_allowed_at == utc("2026-06-17T08:00:00-04:00")

    def test_massachusetts_thirty_days_for_a_work_number(self) -> None:
        history = [call("2026-06-01T10:00:00-04:00"), call("2026-06-02T10:00:00-04:00")]
        data = scenario("US-MA", "2026-06-20T12:00:00-04:00", history=history)
        data["debtor"]["phones"][0]["type"] = "work"
        d = decide(data)
        assert rules(d) == {"us_ma.calls_texts_other"}
        assert d.next_allowed_at == utc("2026-07-01T08:00:00-04:00")

    def test_washington_opens_at_0730_but_reg_f_at_0800(self) -> None:
        d = decide(scenario("US-WA", "2026-06-16T07:45:00-07:00"))
        assert rules(d) == {"us.hours", "house.hours"}
        assert codes(decide(scenario("US-WA", "2026-06-16T07:15:00-07:00"))) == {"OUTSIDE_HOURS"}
        assert "us_wa.hours" in rules(decide(scenario("US-WA", "2026-06-16T07:15:00-07:00")))

    def test_washington_three_communications_a_calendar_week(self) -> None:
        history = [
            call(f"2026-06-1{d}T10:00:00-07:00", "conversation", debt_ids=[f"x{d}"])
            for d in (5, 6, 7)
        ]
        d = decide(scenario("US-WA", "2026-06-18T12:00:00-07:00", "letter", history=history))
        assert rules(d) == {"us_wa.weekly"}
        assert d.next_allowed_at == utc("2026-06-22T08:00:00-07:00")  # next Monday

    def test_new_york_city_three_attempts_in_seven_days_across_media(self) -> None:
        history = [
            call("2026-06-10T10:00:00-04:00", "busy"),
            {"at": "2026-06-11T10:00:00-04:00", "channel": "email", "result": "sent"},
            {"at": "2026-06-12T10:00:00-04:00", "channel": "letter", "result": "sent"},
        ]
        d = decide(scenario("US-NY-NYC", "2026-06-15T12:00:00-04:00", history=history))
        assert rules(d) == {"us_nyc.attempts"}
        assert d.next_allowed_at == utc("2026-06-17T08:00:00-04:00")

    def test_new_york_city_electronic_contact_needs_written_consent(self) -> None:
        inbound = {
            "at": "2026-06-10T12:00:00-04:00",
            "channel": "sms",
            "direction": "inbound",
            "result": "delivered",
            "address": "+12125550199",
        }
        data = scenario("US-NY-NYC", "2026-06-15T12:00:00-04:00", "sms", history=[inbound])
        data["content"] = {"text": "Payment due. Reply STOP to opt out.", "language": "en"}
        assert rules(decide(data)) == {"us_nyc.electronic_consent"}


class TestDaylightSaving:
    def test_spring_forward_morning(self) -> None:
        d = decide(us("2026-03-08T06:30:00Z"))  # 01:30 EST, the night the clocks go forward
        assert d.next_allowed_at == utc("2026-03-08T12:00:00Z")  # 08:00 EDT

    def test_fall_back_morning(self) -> None:
        d = decide(us("2026-11-01T06:30:00Z"))  # 01:30 EST, the second 01:30 of the night
        assert d.next_allowed_at == utc("2026-11-01T13:00:00Z")  # 08:00 EST

    def test_arizona_keeps_standard_time(self) -> None:
        data = us("2026-07-01T14:30:00Z")  # 07:30 in Phoenix, 10:30 in New York
        data["debtor"]["zones"] = ["America/Phoenix", "America/New_York"]
        assert decide(data).next_allowed_at == utc("2026-07-01T15:00:00Z")
