"""The E.164 shortcut in `contacts.parse_phone` reads every number exactly as `phonenumbers.parse`
does: the same number, or the same refusal."""

from __future__ import annotations

import random

import phonenumbers
from phonenumbers import PhoneNumberType

from recoup.ledger import contacts

TYPES = [
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.VOIP,
    PhoneNumberType.PREMIUM_RATE,
]


def _numbers() -> list[str]:
    """Real examples of every region and type, each with its digits perturbed, plus random and
    hostile strings: thousands of inputs, most in the shortcut's form."""
    rng = random.Random(23)
    out: list[str] = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in TYPES:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            out.append(e164)
            digits = e164[1:]
            cc = str(example.country_code)
            for _ in range(2):  # a few digits changed, the country code kept
                changed = list(digits)
                for i in rng.sample(range(len(cc), len(digits)), k=min(2, len(digits) - len(cc))):
                    changed[i] = rng.choice("0123456789")
                out.append("+" + "".join(changed))
            out.append("+" + digits[:-1])  # one digit short
            out.append(e164 + rng.choice("0123456789"))  # one too many
            out.append("+" + cc + "0" + digits[len(cc) :])  # a national prefix written in
    for _ in range(1500):  # random digits after a plus
        out.append("+" + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 19))))
    for prefix in ("+861795", "+8617951", "+86125", "+8601", "+1", "+7", "+44", "+39", "+800"):
        for _ in range(20):
            out.append(
                prefix + "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 12)))
            )
    out += [
        "+",
        "+0",
        "++8613812345678",
        "+86 138 1234 5678",
        "+８６１３８１２３４５６７８",
        "+8613812345678x12",
        "+8613812345678\x00",
        "+" + "9" * 300,
        "13812345678",
        "",
    ]
    return out


def _outcome(parse: object, raw: str, region: str) -> object:
    try:
        return parse(raw, region)  # type: ignore[operator]
    except phonenumbers.NumberParseException as exc:
        return ("refused", exc.error_type)


class TestE164Shortcut:
    def test_same_number_or_refusal_as_the_library(self) -> None:
        """Catches a shortcut that reads any number differently from `phonenumbers.parse` (a
        national prefix not left to the library, a leading zero, a wrong country code split):
        it would accept a number the library refuses, or store a different one."""
        numbers = _numbers()
        shortcut = 0
        for raw in numbers:
            for region in ("CN", "US"):
                expected = _outcome(phonenumbers.parse, raw, region)
                assert _outcome(contacts._parse, raw, region) == expected, raw
            match = contacts._E164.fullmatch(raw)
            shortcut += match is not None and contacts._parse_e164(match.group(1)) is not None
        assert len(numbers) > 3000
        assert shortcut > 2000  # the comparison covers the shortcut, not only the fallback

    def test_parse_phone_keeps_its_answers(self) -> None:
        """The whole check (number, validity, zones) through the shortcut, against the library."""
        for raw in _numbers()[:1500]:
            try:
                parsed = phonenumbers.parse(raw, "CN")
                valid = phonenumbers.is_valid_number(parsed)
            except phonenumbers.NumberParseException:
                valid = False
            try:
                number, _zones = contacts.parse_phone(raw, "CN")
            except contacts.ContactError:
                assert not valid, raw
                continue
            assert valid, raw
            assert number == phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class TestSetWise:
    def test_parse_phones_gives_what_parse_phone_gives(self) -> None:
        """Each number `contacts.parse_phones` settles set-wise is the number, and has the zones,
        `parse_phone` gives it (with either default region), and every number it settles is one
        `parse_phone` accepts. Catches a country code shared by several regions (+1, +7, +44)
        classified by one region's patterns (tried once: it vouches for numbers the library
        refuses). Dropping the length, leading-zero or national-prefix condition, or the zones
        by prefix, went unnoticed here (tried): on these inputs the patterns refuse the same
        numbers and each country's zones by prefix equal its own."""
        numbers = _numbers()
        settled = contacts.parse_phones(numbers)
        assert len(settled) == len(numbers)
        vouched = 0
        for raw, found in zip(numbers, settled, strict=True):
            if found is None:
                continue
            vouched += 1
            assert found == contacts.parse_phone(raw, "CN"), raw
            assert found == contacts.parse_phone(raw, "US"), raw
        # Most valid numbers are settled here: the comparison covers the set-wise path.
        assert vouched > 1500

    def test_a_files_numbers_in_one_call(self) -> None:
        """The usual file (one country's mobiles, a few of them invalid or not in E.164) in one
        call: the valid ones settled, the rest left to `parse_phone`, in the input's order."""
        raws = ["+8613812345678", "+86 138 1234 5678", "+8612345", "+12125550123", "+8613912345679"]
        settled = contacts.parse_phones(raws)
        assert settled[0] == contacts.parse_phone(raws[0], "CN")
        assert settled[4] == contacts.parse_phone(raws[4], "CN")
        assert settled[1] is None  # not in E.164: the library parses it
        assert settled[2] is None  # invalid: `parse_phone` refuses it
        assert settled[3] is None  # +1 is shared by several regions
        assert contacts.parse_phones([]) == []
