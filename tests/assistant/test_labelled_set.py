"""The assistant's labelled set (src/recoup/assistant/data/messages.jsonl) is what the docs say.

The dates are checked here by rules written again from docs/assistant.md, independently of
scripts/assistant_data.py: a generator that resolved "下周五" as the coming Friday, or "the 15th"
as always this month, would write dates these rules reject.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.pure

DATA = Path(__file__).resolve().parents[2] / "src" / "recoup" / "assistant" / "data"
LANGUAGES = {"zh-Hans", "zh-Hant", "en"}
INTENTS = {
    "pay_now",
    "promise_to_pay",
    "payment_plan",
    "extension",
    "already_paid",
    "balance_question",
    "dispute",
    "hardship",
    "stop",
    "wrong_person",
    "talk_to_human",
    "complaint",
    "vulnerable",
    "other",
}
FIELDS = {"id", "text", "at", "language", "intent", "amount_minor", "date", "split"}
SHARES = {"train": 0.60, "test": 0.25, "simulator": 0.15}
PER_INTENT_AND_LANGUAGE = 35
PER_SPLIT_INTENT_AND_LANGUAGE = {"train": 18, "test": 6, "simulator": 4}
NEAR_DUPLICATE = 0.6
# The other authors' train lines (scripts/assistant_data/authors/<author>/, ids `...-<author><nnn>`,
# the eighth wave) carry their intent only: written as literal text, their promises name an amount
# and a day the parsers read, not entities labelled by hand.
AUTHOR_LINE = re.compile(r"-(?!w)[a-z]\d{3}$")


def load() -> list[dict[str, Any]]:
    lines = (DATA / "messages.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


MESSAGES = load()


def today_of(message: dict[str, Any]) -> dt.date:
    """The message's day in its own zone: the offset in `at` is the debtor's."""
    return dt.datetime.fromisoformat(message["at"]).date()


def test_every_message_has_exactly_the_documented_fields_with_valid_values() -> None:
    for m in MESSAGES:
        assert set(m) == FIELDS, m
        assert isinstance(m["id"], str), m
        assert m["id"], m
        assert isinstance(m["text"], str), m
        assert m["text"].strip() == m["text"] != "", m
        assert len(m["text"]) <= 500, m
        at = dt.datetime.fromisoformat(m["at"])
        assert at.utcoffset() is not None, m
        assert m["language"] in LANGUAGES, m
        assert m["intent"] in INTENTS, m
        assert m["split"] in SHARES, m
        assert m["amount_minor"] is None or (
            isinstance(m["amount_minor"], int) and 0 < m["amount_minor"] <= 10_000_000
        ), m
        if m["date"] is not None:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", m["date"]), m
            dt.date.fromisoformat(m["date"])


def test_every_promise_carries_an_amount_and_a_date_not_before_the_message() -> None:
    promises = [
        m for m in MESSAGES if m["intent"] == "promise_to_pay" and not AUTHOR_LINE.search(m["id"])
    ]
    assert promises
    for m in promises:
        assert m["amount_minor"] is not None, m
        assert m["date"] is not None, m
        assert dt.date.fromisoformat(m["date"]) >= today_of(m), m


def test_payments_already_made_are_dated_on_or_before_the_message() -> None:
    for m in MESSAGES:
        if m["intent"] == "already_paid" and m["date"] is not None:
            assert dt.date.fromisoformat(m["date"]) <= today_of(m), m


def test_entities_appear_only_where_the_conventions_put_them() -> None:
    """Amounts: promise, paid, pay now. Dates: promise, paid, extension (docs: "Entities")."""
    for m in MESSAGES:
        if m["amount_minor"] is not None:
            assert m["intent"] in {"promise_to_pay", "already_paid", "pay_now"}, m
        if m["date"] is not None:
            assert m["intent"] in {"promise_to_pay", "already_paid", "extension"}, m


def test_ids_are_unique_and_no_text_is_in_two_splits() -> None:
    ids = Counter(m["id"] for m in MESSAGES)
    assert [i for i, n in ids.items() if n > 1] == []
    splits: dict[str, set[str]] = {}
    for m in MESSAGES:
        splits.setdefault(m["text"].casefold(), set()).add(m["split"])
    assert [t for t, s in splits.items() if len(s) > 1] == []


def test_counts_per_intent_language_and_split_reach_the_minimums() -> None:
    total = Counter((m["intent"], m["language"]) for m in MESSAGES)
    per_split = Counter((m["intent"], m["language"], m["split"]) for m in MESSAGES)
    assert len(MESSAGES) >= 1500
    for intent in INTENTS:
        for language in LANGUAGES:
            assert total[(intent, language)] >= PER_INTENT_AND_LANGUAGE, (intent, language)
            for split, floor in PER_SPLIT_INTENT_AND_LANGUAGE.items():
                assert per_split[(intent, language, split)] >= floor, (intent, language, split)


def test_the_splits_are_near_sixty_twenty_five_fifteen() -> None:
    """The cut is of the written lines (ids `...-<nnnn>`); the train-only lines (ids `...-w<nnn>`)
    and the other authors' (`...-<author><nnn>`) come after it and go to `train` alone, whatever
    their number."""
    cut = [m for m in MESSAGES if re.search(r"-\d{4}$", m["id"])]
    counts = Counter(m["split"] for m in cut)
    for split, share in SHARES.items():
        assert abs(counts[split] / len(cut) - share) < 0.03, (split, counts)
    assert all(m["split"] == "train" for m in MESSAGES if m not in cut)


def grams(text: str) -> set[str]:
    padded = f"  {text.lower().strip()}  "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def test_no_test_message_is_a_near_duplicate_of_a_train_message() -> None:
    train = [grams(m["text"]) for m in MESSAGES if m["split"] == "train"]
    for m in MESSAGES:
        if m["split"] == "test":
            g = grams(m["text"])
            worst = max(len(g & t) / len(g | t) for t in train)
            assert worst < NEAR_DUPLICATE, m


SIMPLIFIED_ONLY = set("还这们个钱号说让发过对为时么后")
TRADITIONAL_ONLY = set("還這們個錢號說讓發過對為時麼後")


CHINESE_WITHOUT_HAN = re.compile(r"(?i)td|t|[？。！，…]+")


def test_the_language_tag_matches_the_script() -> None:
    """Chinese characters make a message Chinese, the characters say which script; without them
    a message is English unless it is a Chinese SMS code (TD) or Chinese punctuation alone."""
    for m in MESSAGES:
        chars = set(m["text"])
        has_han = any("\u4e00" <= c <= "\u9fff" for c in chars)
        if m["language"] == "en":
            assert not has_han, m
        else:
            assert has_han or CHINESE_WITHOUT_HAN.fullmatch(m["text"]), m
            wrong = TRADITIONAL_ONLY if m["language"] == "zh-Hans" else SIMPLIFIED_ONLY
            assert not chars & wrong, m


# --- dates, by rule -------------------------------------------------------------------------

ZH_WEEKDAY = {c: i for i, c in enumerate("一二三四五六日")}
ZH_NUMBER = {c: i for i, c in enumerate("零一二三四五六七八九十")}
EN_WEEKDAY = {
    name: i
    for i, name in enumerate(
        ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    )
}
EN_SHORT = {name[:3]: i for name, i in EN_WEEKDAY.items()}


def next_calendar_week(today: dt.date, weekday: int) -> dt.date:
    return today + dt.timedelta(days=7 - today.weekday() + weekday)


def coming(today: dt.date, weekday: int) -> dt.date:
    return today + dt.timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def last_day(today: dt.date) -> dt.date:
    return dt.date(today.year, today.month, calendar.monthrange(today.year, today.month)[1])


def in_next_month(today: dt.date, day: int) -> dt.date:
    first = last_day(today) + dt.timedelta(days=1)
    return first.replace(day=day)


MONTH = {
    name: i + 1
    for i, name in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}


def on(today: dt.date, month: int, day: int) -> dt.date:
    """6月28号 / June 28: this year's, or next year's once this year's has passed."""
    this_year = dt.date(today.year, month, day)
    return this_year if this_year >= today else this_year.replace(year=today.year + 1)


def nth(today: dt.date, day: int) -> dt.date:
    return today.replace(day=day) if day >= today.day else in_next_month(today, day)


Rule = tuple[str, Callable[[dt.date, re.Match[str]], dt.date]]
ZH_DAY = r"[一二三四五六日]"
FUTURE_RULES: list[Rule] = [
    (r"大后天|三天后|三日後|in 3 days", lambda t, _m: t + dt.timedelta(days=3)),
    (r"两天后|in two days", lambda t, _m: t + dt.timedelta(days=2)),
    (r"下个月初|下個月初|月初|early next month", lambda t, _m: in_next_month(t, 1)),
    (
        r"下[个個]月(\d+)[号號]|next month on the (\d+)(?:st|nd|rd|th)",
        lambda t, m: in_next_month(t, int(m.group(1) or m.group(2))),
    ),
    (
        rf"下(?:周|星期|礼拜|禮拜|週)({ZH_DAY})",
        lambda t, m: next_calendar_week(t, ZH_WEEKDAY[m.group(1)]),
    ),
    (
        r"next (monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
        r"|(monday|tuesday|wednesday|thursday|friday) next week",
        lambda t, m: next_calendar_week(t, EN_WEEKDAY[m.group(1) or m.group(2)]),
    ),
    (r"月底|月尾|end of (?:the )?month|month end", lambda t, _m: last_day(t)),
    (r"周末|週末|this weekend", lambda t, _m: coming(t, 5)),
    (
        r"(?<!next )\b(mon|tue|wed|thu|fri|sat|sun)(?:day|sday|nesday|rsday|urday)?\b"
        r"(?! next week)",
        lambda t, m: coming(t, EN_SHORT[m.group(1)]),
    ),
    (r"发工资|發薪|出糧|payday", lambda t, _m: nth(t, 15)),
    (r"後天|后天|後日|day after tomorrow", lambda t, _m: t + dt.timedelta(days=2)),
    (r"明天|明儿|聽日|tomorrow|tmrw?\b", lambda t, _m: t + dt.timedelta(days=1)),
    (r"今天|今晚|今日|today|tonight", lambda t, _m: t),
    (r"(\d{1,2})月(\d{1,2})[号號日]", lambda t, m: on(t, int(m.group(1)), int(m.group(2)))),
    (
        r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* (\d{1,2})\b",
        lambda t, m: on(t, MONTH[m.group(1)], int(m.group(2))),
    ),
    (
        r"\b(\d{1,2}) (jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\b",
        lambda t, m: on(t, MONTH[m.group(2)], int(m.group(1))),
    ),
    (r"(?<![月\d])(\d{1,2})[号號]", lambda t, m: nth(t, int(m.group(1)))),
    (r"the (\d{1,2})(?:st|nd|rd|th)", lambda t, m: nth(t, int(m.group(1)))),
    (r"(?<![月个個])([一二三四五六七八九十])[号號]", lambda t, m: nth(t, ZH_NUMBER[m.group(1)])),
    (
        rf"(?<![下这這本])(?:周|星期|礼拜|禮拜|週)({ZH_DAY})",
        lambda t, m: coming(t, ZH_WEEKDAY[m.group(1)]),
    ),
]


def latest(today: dt.date, weekday: int) -> dt.date:
    return today - dt.timedelta(days=(today.weekday() - weekday - 1) % 7 + 1)


PAST_RULES: list[Rule] = [
    (rf"(?:周|星期|礼拜|禮拜|週)({ZH_DAY})", lambda t, m: latest(t, ZH_WEEKDAY[m.group(1)])),
    (
        r"on (monday|tuesday|wednesday|thursday|friday|saturday|sunday)",
        lambda t, m: latest(t, EN_WEEKDAY[m.group(1)]),
    ),
    (r"前天|2 days ago", lambda t, _m: t - dt.timedelta(days=2)),
    (r"昨天|昨晚|琴日|yesterday|last night", lambda t, _m: t - dt.timedelta(days=1)),
    (r"刚刚|剛剛|刚才|今天早上|今朝|just now|this morning", lambda t, _m: t),
]


def date_by_rules(text: str, today: dt.date, rules: list[Rule]) -> dt.date | None:
    """The day the rules give, when every day expression in the text agrees: "八号还550
    剩下的月底前想办法" names two days and gives None. An expression inside a longer one ("后天"
    in "大后天", "the 5th" in "next month on the 5th") is the longer one's."""
    found = [
        (hit.span(), resolve(today, hit))
        for pattern, resolve in rules
        for hit in re.finditer(pattern, text.lower())
    ]
    outer = {
        day
        for (start, end), day in found
        if not any(s <= start and end <= e and (s, e) != (start, end) for (s, e), _ in found)
    }
    return outer.pop() if len(outer) == 1 else None


def checked_by_rule(kind: str, rules: list[Rule]) -> list[tuple[dict[str, Any], dt.date]]:
    checked = []
    for m in MESSAGES:
        if m["intent"] == kind and m["date"] is not None:
            day = date_by_rules(m["text"], today_of(m), rules)
            if day is not None:
                checked.append((m, day))
    return checked


def test_relative_dates_in_promises_resolve_by_the_documented_rules() -> None:
    checked = checked_by_rule("promise_to_pay", FUTURE_RULES)
    promises = sum(m["intent"] == "promise_to_pay" and m["date"] is not None for m in MESSAGES)
    assert len(checked) >= promises * 0.9, "the rules should reach most promises"
    wrong = [
        (m["text"], m["at"], m["date"], str(want)) for m, want in checked if m["date"] != str(want)
    ]
    assert wrong == []


def test_past_dates_in_payments_made_resolve_by_the_documented_rules() -> None:
    checked = checked_by_rule("already_paid", PAST_RULES)
    assert len(checked) >= 50
    wrong = [
        (m["text"], m["at"], m["date"], str(want)) for m, want in checked if m["date"] != str(want)
    ]
    assert wrong == []


def test_the_rules_give_the_issues_example() -> None:
    """下周五 said on Wednesday 2026-06-10 (+08:00) is Friday 2026-06-19, not the 12th."""
    assert date_by_rules("下周五还500", dt.date(2026, 6, 10), FUTURE_RULES) == dt.date(2026, 6, 19)
    assert date_by_rules("周五还500", dt.date(2026, 6, 10), FUTURE_RULES) == dt.date(2026, 6, 12)


def test_messages_written_late_abroad_take_their_own_day() -> None:
    """Some messages sit near midnight in zones other than +08:00; their day is their own."""
    differing = [
        m
        for m in MESSAGES
        if dt.datetime.fromisoformat(m["at"]).date()
        != dt.datetime.fromisoformat(m["at"]).astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    ]
    assert differing, "the set should hold messages whose local day is not China's"


# --- amounts, by rule -----------------------------------------------------------------------

DATE_WITH_FIGURES = re.compile(
    r"\d+月\d+[号號日]|\d+[号號]|the \d+(?:st|nd|rd|th)|\d+ days?|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* \d+|\d+ (?:jan|feb|mar|apr|may|"
    r"jun|jul|aug|sep|oct|nov|dec)"
)
FIGURE = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(k|w|万|萬|千)?(?![a-z])", re.IGNORECASE)
ZH_DIGIT = {
    "一": 1,
    "二": 2,
    "两": 2,
    "兩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "八": 8,
    "伍": 5,
}
ZH_WORD = re.compile(r"([一二两兩三四五六八伍])([万萬千仟百佰])([一二三五八])?")
SCALE = {"万": 10000, "萬": 10000, "千": 1000, "仟": 1000, "百": 100, "佰": 100}


def amount_by_rule(text: str) -> int | None:
    """Minor units of the one amount in a text, when it is written in figures or in the simple
    Chinese forms (五百, 一千二 = 1200, 三千五 = 3500); None when the text holds something else."""
    rest = DATE_WITH_FIGURES.sub(" ", text.lower())
    if re.search("hundred|thousand|fifty", rest):
        return None
    figures = FIGURE.findall(rest)
    if len(figures) == 1 and "块5" not in rest:
        number, suffix = figures[0]
        value = float(number.replace(",", "")) * {"k": 1000, "w": 10000, "万": 10000}.get(
            suffix.lower(), 1000 if suffix == "千" else 10000 if suffix == "萬" else 1
        )
        return round(value * 100)
    words = ZH_WORD.findall(rest)
    if not figures and len(words) == 1:
        head, scale, tail = words[0]
        value = ZH_DIGIT[head] * SCALE[scale]
        if tail:
            value += ZH_DIGIT[tail] * SCALE[scale] // 10
        return value * 100
    return None


def test_amounts_in_figures_and_simple_words_are_their_minor_units() -> None:
    checked = [
        (m, amount_by_rule(m["text"]))
        for m in MESSAGES
        if m["amount_minor"] is not None and amount_by_rule(m["text"]) is not None
    ]
    assert len(checked) >= 240
    wrong = [
        (m["text"], m["amount_minor"], want) for m, want in checked if m["amount_minor"] != want
    ]
    assert wrong == []


def test_the_docs_count_table_is_the_files() -> None:
    """docs/assistant.md's counts are this file's (python scripts/assistant_data.py --docs)."""
    docs = (DATA.parents[3] / "docs" / "assistant.md").read_text(encoding="utf-8")
    block = re.search(
        r"<!-- labelled-set-table -->\n(.*?)\n<!-- /labelled-set-table -->", docs, re.S
    )
    assert block is not None
    counts = Counter((m["intent"], m["language"], m["split"]) for m in MESSAGES)
    rows = {
        line.split(" | ")[0].strip("| `"): line.split(" | ")[1:4]
        for line in block.group(1).splitlines()[2:]
    }
    for intent in INTENTS:
        for language, cell in zip(["zh-Hans", "zh-Hant", "en"], rows[intent], strict=True):
            assert cell == " / ".join(
                str(counts[(intent, language, s)]) for s in ("train", "test", "simulator")
            ), (intent, language)
