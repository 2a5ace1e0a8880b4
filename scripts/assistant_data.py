"""Writes the assistant's labelled set, src/recoup/assistant/data/messages.jsonl, from the
hand-written lines in scripts/assistant_data/<language>/<intent>.txt.

The lines are written by hand; a line may hold slots that this script fills, so that the
entities are computed rather than typed: ``{A}`` an amount (figures or words, in the
language's usual forms), ``{D}`` a date ahead (relative, weekday, day of month, payday...),
``{P}`` a date behind (yesterday, last night...). Each slot expression carries the rule that
resolves it against the message's own time in its own zone, so every ``date`` here is computed,
never typed. The conventions are in docs/assistant.md ("The labelled set").

Seeded: the same lines give the same file. The committed JSONL is the source of truth; run
``python scripts/assistant_data.py`` after editing the lines, then
``python scripts/assistant_data.py --table`` for the counts in the docs.
"""

from __future__ import annotations

import argparse
import calendar
import hashlib
import json
import random
import re
import statistics
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

SEED = 21
ROOT = Path(__file__).resolve().parents[1]
LINES = Path(__file__).resolve().parent / "assistant_data"
OUT = ROOT / "src" / "recoup" / "assistant" / "data" / "messages.jsonl"
# Lines of the third wave that go to the train split only (scripts/assistant_data/train-only/
# <language>/<intent>.txt): adding them to the files above would move the cut between the splits
# and carry test messages into training. A line as close to a held-out message (test, simulator,
# unseen2 to unseen5) as a test message may be to a train one is left out, unread: what is measured
# stays unseen.
TRAIN_ONLY = LINES / "train-only"
HELD_OUT_FILES = [
    ROOT / "src" / "recoup" / "assistant" / "data" / "unseen2.jsonl",
    ROOT / "src" / "recoup" / "assistant" / "data" / "unseen3.jsonl",
    ROOT / "src" / "recoup" / "assistant" / "data" / "unseen4.jsonl",
    ROOT / "src" / "recoup" / "assistant" / "data" / "unseen5.jsonl",
    ROOT / "src" / "recoup" / "assistant" / "data" / "unseen7.jsonl",
]
# The eighth wave's train-only lines by other authors (scripts/assistant_data/authors/<author>/
# <language>/<intent>.txt): each written by a helper blind to the set, the rules and the model, in
# a persona of its own, so that the model learns more than one author's ways of writing. Ids
# `<language>-<intent>-<author><nnn>`; the same near-duplicate filter as the lines above.
AUTHORS = LINES / "authors"
# An author's line whose script does not fit its language tag (an emoji alone tagged zh-Hant, a
# traditional character in a zh-Hans line) is left out and counted: the set's rule
# (tests/assistant/test_labelled_set.py, `test_the_language_tag_matches_the_script`).
SIMPLIFIED_ONLY = set("还这们个钱号说让发过对为时么后")
TRADITIONAL_ONLY = set("還這們個錢號說讓發過對為時麼後")
CHINESE_WITHOUT_HAN = re.compile(r"(?i)td|t|[？。！，…]+")


def script_fits(text: str, language: str) -> bool:
    chars = set(text)
    has_han = any("\u4e00" <= c <= "\u9fff" for c in chars)
    if language == "en":
        return not has_han
    wrong = TRADITIONAL_ONLY if language == "zh-Hans" else SIMPLIFIED_ONLY
    return (has_han or bool(CHINESE_WITHOUT_HAN.fullmatch(text))) and not chars & wrong


LANGUAGES = ("zh-Hans", "zh-Hant", "en")
INTENTS = (
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
)
SPLITS = (("train", 0.60), ("test", 0.25), ("simulator", 0.15))
# A test message whose character 3-grams overlap a train message's this much is a near-duplicate
# of it and is dropped from the set (not moved): the test split must measure phrasings the model
# has not seen.
NEAR_DUPLICATE = 0.6

Resolver = Callable[[date], date]


# --- date rules (docs/assistant.md, "Dates") ------------------------------------------------


def plus(days: int) -> Resolver:
    return lambda today: today + timedelta(days=days)


def coming_weekday(weekday: int) -> Resolver:
    """周五 / Friday: the first such day strictly after today."""

    def resolve(today: date) -> date:
        ahead = (weekday - today.weekday()) % 7
        return today + timedelta(days=ahead or 7)

    return resolve


def next_week(weekday: int) -> Resolver:
    """下周五 / next Friday: that day in the next calendar week (weeks run Monday to Sunday)."""

    def resolve(today: date) -> date:
        monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
        return monday + timedelta(days=weekday)

    return resolve


def last_weekday(weekday: int) -> Resolver:
    """(paid) on Monday / 周一还的: the latest such day strictly before today."""

    def resolve(today: date) -> date:
        back = (today.weekday() - weekday) % 7
        return today - timedelta(days=back or 7)

    return resolve


def month_end(today: date) -> date:
    return today.replace(day=calendar.monthrange(today.year, today.month)[1])


def next_month_day(day: int) -> Resolver:
    """下个月5号 / next month on the 5th; 月初 / early next month is the 1st."""

    def resolve(today: date) -> date:
        year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
        return date(year, month, day)

    return resolve


def day_of_month(day: int) -> Resolver:
    """15号 / the 15th: this month if the day is today or later, else next month's."""

    def resolve(today: date) -> date:
        if today.day <= day:
            return today.replace(day=day)
        return next_month_day(day)(today)

    return resolve


PAYDAY = 15  # "after payday" / 发工资后 / 出糧: the 15th, by the rule of day_of_month.


@dataclass(frozen=True)
class Slot:
    text: str
    resolve: Resolver


ZH_DAYS = "一二三四五六日"
ZH_NUM = "零一二三四五六七八九十"
EN_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EN_SHORT = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def future_slots(language: str, rng: random.Random, today: date) -> list[Slot]:
    """The ways a person writes a day ahead, in one language; the caller picks one."""
    wd = rng.randrange(7)
    wd_work = rng.randrange(5)
    n = rng.choice([1, 5, 8, 10, 12, 15, 18, 20, 25, 28])
    ahead = rng.randrange(3, 40)
    absolute = today + timedelta(days=ahead)
    if language == "zh-Hans":
        return [
            Slot("今天", plus(0)),
            Slot("今晚", plus(0)),
            Slot("明天", plus(1)),
            Slot("明儿", plus(1)),
            Slot("mt", plus(1)),
            Slot("后天", plus(2)),
            Slot("大后天", plus(3)),
            Slot(f"周{ZH_DAYS[wd]}", coming_weekday(wd)),
            Slot(f"星期{ZH_DAYS[wd]}", coming_weekday(wd)),
            Slot(f"礼拜{ZH_DAYS[wd_work]}", coming_weekday(wd_work)),
            Slot(f"下周{ZH_DAYS[wd]}", next_week(wd)),
            Slot(f"下星期{ZH_DAYS[wd_work]}", next_week(wd_work)),
            Slot(f"下礼拜{ZH_DAYS[wd_work]}", next_week(wd_work)),
            Slot("周末", coming_weekday(5)),
            Slot("月底", month_end),
            Slot("这个月底", month_end),
            Slot("月初", next_month_day(1)),
            Slot("下个月初", next_month_day(1)),
            Slot(f"下个月{n}号", next_month_day(n)),
            Slot(f"{n}号", day_of_month(n)),
            Slot(f"{ZH_NUM[n] if n <= 10 else n}号", day_of_month(n)),
            Slot("发工资后", day_of_month(PAYDAY)),
            Slot("发工资那天", day_of_month(PAYDAY)),
            Slot("三天后", plus(3)),
            Slot("两天后", plus(2)),
            Slot(f"{absolute.month}月{absolute.day}号", lambda _t, d=absolute: d),
            Slot(f"{absolute.month}月{absolute.day}日", lambda _t, d=absolute: d),
        ]
    if language == "zh-Hant":
        return [
            Slot("今天", plus(0)),
            Slot("今晚", plus(0)),
            Slot("今日", plus(0)),
            Slot("明天", plus(1)),
            Slot("聽日", plus(1)),
            Slot("後天", plus(2)),
            Slot("後日", plus(2)),
            Slot(f"星期{ZH_DAYS[wd]}", coming_weekday(wd)),
            Slot(f"禮拜{ZH_DAYS[wd_work]}", coming_weekday(wd_work)),
            Slot(f"週{ZH_DAYS[wd]}", coming_weekday(wd)),
            Slot(f"下禮拜{ZH_DAYS[wd_work]}", next_week(wd_work)),
            Slot(f"下星期{ZH_DAYS[wd]}", next_week(wd)),
            Slot(f"下週{ZH_DAYS[wd_work]}", next_week(wd_work)),
            Slot("週末", coming_weekday(5)),
            Slot("月底", month_end),
            Slot("月尾", month_end),
            Slot("下個月初", next_month_day(1)),
            Slot(f"下個月{n}號", next_month_day(n)),
            Slot(f"{n}號", day_of_month(n)),
            Slot("出糧後", day_of_month(PAYDAY)),
            Slot("發薪水之後", day_of_month(PAYDAY)),
            Slot("三日後", plus(3)),
            Slot(f"{absolute.month}月{absolute.day}號", lambda _t, d=absolute: d),
        ]
    return [
        Slot("today", plus(0)),
        Slot("tonight", plus(0)),
        Slot("tomorrow", plus(1)),
        Slot("tmr", plus(1)),
        Slot("tmrw", plus(1)),
        Slot("the day after tomorrow", plus(2)),
        Slot(EN_DAYS[wd], coming_weekday(wd)),
        Slot(f"this {EN_DAYS[wd_work]}", coming_weekday(wd_work)),
        Slot(EN_SHORT[wd_work], coming_weekday(wd_work)),
        Slot(f"next {EN_DAYS[wd]}", next_week(wd)),
        Slot(f"{EN_DAYS[wd_work]} next week", next_week(wd_work)),
        Slot("this weekend", coming_weekday(5)),
        Slot("end of the month", month_end),
        Slot("end of month", month_end),
        Slot("month end", month_end),
        Slot("early next month", next_month_day(1)),
        Slot(f"the {ordinal(n)}", day_of_month(n)),
        Slot(f"on the {ordinal(n)}", day_of_month(n)),
        Slot(f"next month on the {ordinal(n)}", next_month_day(n)),
        Slot("after payday", day_of_month(PAYDAY)),
        Slot("on payday", day_of_month(PAYDAY)),
        Slot("in 3 days", plus(3)),
        Slot("in two days", plus(2)),
        Slot(f"{MONTHS[absolute.month - 1]} {absolute.day}", lambda _t, d=absolute: d),
        Slot(f"{absolute.day} {MONTHS[absolute.month - 1][:3]}", lambda _t, d=absolute: d),
    ]


def past_slots(language: str, rng: random.Random) -> list[Slot]:
    wd = rng.randrange(5)
    if language == "zh-Hans":
        return [
            Slot("昨天", plus(-1)),
            Slot("昨晚", plus(-1)),
            Slot("前天", plus(-2)),
            Slot("刚刚", plus(0)),
            Slot("今天早上", plus(0)),
            Slot("刚才", plus(0)),
            Slot(f"周{ZH_DAYS[wd]}", last_weekday(wd)),
        ]
    if language == "zh-Hant":
        return [
            Slot("昨天", plus(-1)),
            Slot("琴日", plus(-1)),
            Slot("前天", plus(-2)),
            Slot("剛剛", plus(0)),
            Slot("今朝", plus(0)),
            Slot(f"禮拜{ZH_DAYS[wd]}", last_weekday(wd)),
        ]
    return [
        Slot("yesterday", plus(-1)),
        Slot("last night", plus(-1)),
        Slot("2 days ago", plus(-2)),
        Slot("just now", plus(0)),
        Slot("this morning", plus(0)),
        Slot(f"on {EN_DAYS[wd]}", last_weekday(wd)),
    ]


# --- amounts (docs/assistant.md, "Amounts") ---------------------------------------------------

# (yuan, spellings per language). Minor units are yuan x 100 (fen / cents).
AMOUNTS: tuple[tuple[float, dict[str, tuple[str, ...]]], ...] = (
    (
        100,
        {
            "zh-Hans": ("100", "一百", "100块", "一百块钱"),
            "zh-Hant": ("100", "一百", "一百蚊", "100元"),
            "en": ("100", "a hundred", "100 bucks", "$100"),
        },
    ),
    (
        250,
        {
            "zh-Hans": ("250", "两百五"),
            "zh-Hant": ("250", "兩百五"),
            "en": ("250", "two fifty"),
        },
    ),
    (
        600,
        {
            "zh-Hans": ("600", "六百", "600块"),
            "zh-Hant": ("600", "六百", "600蚊"),
            "en": ("600", "six hundred", "600 rmb"),
        },
    ),
    (
        3000,
        {
            "zh-Hans": ("3000", "三千", "3k", "三千块"),
            "zh-Hant": ("3000", "三千", "3k", "NT$3000"),
            "en": ("3000", "3k", "three thousand", "3,000"),
        },
    ),
    (
        4000,
        {
            "zh-Hans": ("4000", "四千", "4k"),
            "zh-Hant": ("4000", "四千", "4k"),
            "en": ("4000", "4k", "four thousand"),
        },
    ),
    (
        8000,
        {
            "zh-Hans": ("8000", "八千", "8k"),
            "zh-Hant": ("8000", "八千", "8k"),
            "en": ("8000", "8k", "eight thousand"),
        },
    ),
    (
        20000,
        {
            "zh-Hans": ("20000", "两万", "2w", "2万"),
            "zh-Hant": ("20000", "兩萬", "2萬"),
            "en": ("20000", "20k", "twenty thousand"),
        },
    ),
    (
        200,
        {
            "zh-Hans": ("200", "两百", "二百块", "¥200", "200块钱"),
            "zh-Hant": ("200", "兩百", "200蚊", "二百元"),
            "en": ("200", "$200", "two hundred", "200 rmb", "200 yuan"),
        },
    ),
    (
        300,
        {
            "zh-Hans": ("300", "三百", "300块", "三百块钱", "300元"),
            "zh-Hant": ("300", "三百", "三百蚊", "300元"),
            "en": ("300", "300 bucks", "three hundred", "¥300"),
        },
    ),
    (
        500,
        {
            "zh-Hans": ("500", "五百", "500块", "¥500", "五百块", "伍佰元"),
            "zh-Hant": ("500", "五百", "500蚊", "五百元", "$500"),
            "en": ("500", "$500", "five hundred", "500rmb", "500 yuan", "5 hundred"),
        },
    ),
    (
        550,
        {
            "zh-Hans": ("五百五", "550"),
            "zh-Hant": ("五百五", "550"),
            "en": ("550", "five fifty"),
        },
    ),
    (
        800,
        {
            "zh-Hans": ("800", "八百", "800块"),
            "zh-Hant": ("800", "八百", "八百蚊"),
            "en": ("800", "eight hundred", "$800"),
        },
    ),
    (
        1000,
        {
            "zh-Hans": ("1000", "一千", "1k", "一千块", "1000元"),
            "zh-Hant": ("1000", "一千", "一千蚊", "1k"),
            "en": ("1000", "1k", "one thousand", "a thousand", "1,000"),
        },
    ),
    (
        1200,
        {
            "zh-Hans": ("1200", "一千二", "1.2k", "一千二百块"),
            "zh-Hant": ("1200", "一千二", "1.2k"),
            "en": ("1200", "1.2k", "twelve hundred", "1,200"),
        },
    ),
    (
        1500,
        {
            "zh-Hans": ("1500", "一千五", "1.5k", "一千五百元"),
            "zh-Hant": ("1500", "一千五", "1.5k", "NT$1500"),
            "en": ("1500", "1.5k", "fifteen hundred", "$1,500"),
        },
    ),
    (
        2000,
        {
            "zh-Hans": ("2000", "两千", "2k", "两千块", "2千"),
            "zh-Hant": ("2000", "兩千", "2k", "兩千蚊"),
            "en": ("2000", "2k", "two thousand", "2,000 rmb"),
        },
    ),
    (
        3500,
        {
            "zh-Hans": ("3500", "三千五", "3.5k"),
            "zh-Hant": ("3500", "三千五", "3.5k"),
            "en": ("3500", "3.5k", "three thousand five hundred"),
        },
    ),
    (
        5000,
        {
            "zh-Hans": ("5000", "五千", "5k", "伍仟元"),
            "zh-Hant": ("5000", "五千", "5k", "HK$5000"),
            "en": ("5000", "5k", "five thousand", "$5,000"),
        },
    ),
    (
        10000,
        {
            "zh-Hans": ("10000", "一万", "1w", "1万"),
            "zh-Hant": ("10000", "一萬", "1萬"),
            "en": ("10000", "10k", "ten thousand"),
        },
    ),
    (
        99.5,
        {
            "zh-Hans": ("99.5", "99块5"),
            "zh-Hant": ("99.5",),
            "en": ("99.50", "$99.50"),
        },
    ),
    (
        1234.56,
        {
            "zh-Hans": ("1234.56",),
            "zh-Hant": ("1234.56",),
            "en": ("1,234.56",),
        },
    ),
)


# --- times --------------------------------------------------------------------------------

ZONES = {
    "zh-Hans": ((timezone(timedelta(hours=8)), 1.0),),
    "zh-Hant": ((timezone(timedelta(hours=8)), 1.0),),
    # English is written by people in China, Singapore and Malaysia (+08:00) and by a few abroad.
    "en": (
        (timezone(timedelta(hours=8)), 0.75),
        (timezone(timedelta(hours=0)), 0.08),
        (timezone(timedelta(hours=1)), 0.07),
        (timezone(timedelta(hours=-5)), 0.05),
        (timezone(timedelta(hours=7)), 0.05),
    ),
}
START = date(2026, 1, 5)
DAYS = 330
# People text a lender mostly in the day and evening, some after midnight.
HOURS = (*range(7, 24), *range(7, 24), 0, 1, 2, 3, 5, 6)


def message_time(language: str, rng: random.Random) -> datetime:
    zones, weights = zip(*ZONES[language], strict=True)
    zone = rng.choices(zones, weights)[0]
    day = START + timedelta(days=rng.randrange(DAYS))
    clock = time(rng.choice(HOURS), rng.randrange(60), rng.randrange(60))
    return datetime.combine(day, clock, tzinfo=zone)


# --- the set -----------------------------------------------------------------------------


@dataclass
class Message:
    id: str
    text: str
    at: datetime
    language: str
    intent: str
    amount_minor: int | None
    date: date | None
    split: str = ""

    def row(self) -> dict[str, object]:
        return {
            "id": self.id,
            "text": self.text,
            "at": self.at.isoformat(timespec="seconds"),
            "language": self.language,
            "intent": self.intent,
            "amount_minor": self.amount_minor,
            "date": self.date.isoformat() if self.date else None,
            "split": self.split,
        }


SLOT = re.compile(r"\{([ADP])\}")
SHORT = {"zh-Hans": "hans", "zh-Hant": "hant", "en": "en"}


def fill(line: str, language: str, intent: str, rng: random.Random, at: datetime) -> Message:
    amount: int | None = None
    day: date | None = None
    today = at.date()

    def slot(match: re.Match[str]) -> str:
        nonlocal amount, day
        kind = match.group(1)
        if kind == "A":
            # Odd amounts (99.50, 1,234.56) are rarer than round ones, as in life.
            weights = [1.0 if yuan == int(yuan) else 0.3 for yuan, _ in AMOUNTS]
            yuan, spellings = rng.choices(AMOUNTS, weights)[0]
            amount = round(yuan * 100)
            return rng.choice(spellings[language])
        slots = future_slots(language, rng, today) if kind == "D" else past_slots(language, rng)
        before = match.string[: match.start()].rstrip().lower().split()
        if before and before[-1] in ("on", "by", "till", "until", "to"):
            # "pay on {D}" takes "the 15th", not "on the 15th" or "in 3 days".
            slots = [s for s in slots if not s.text.startswith(("on ", "in ", "the day", "after "))]
        chosen = rng.choice(slots)
        day = chosen.resolve(today)
        return chosen.text

    text = SLOT.sub(slot, line)
    return Message("", text, at, language, intent, amount, day)


def read_lines(language: str, intent: str, root: Path = LINES) -> list[str]:
    path = root / language / f"{intent}.txt"
    if not path.exists():
        return []
    lines = (raw.rstrip("\n") for raw in path.read_text(encoding="utf-8").splitlines())
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def normal(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", text.lower())


def grams(text: str) -> frozenset[str]:
    padded = f"  {text.lower().strip()}  "
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def bucket(message_id: str) -> int:
    return int(hashlib.sha256(f"{SEED}:{message_id}".encode()).hexdigest()[:12], 16)


def build() -> tuple[list[Message], list[tuple[Message, float]]]:
    seen: set[str] = set()
    strata: dict[tuple[str, str], list[Message]] = {}
    for language in LANGUAGES:
        for intent in INTENTS:
            stratum: list[Message] = []
            for line in read_lines(language, intent):
                # One generator per line: editing one line changes no other message.
                rng = random.Random(f"{SEED}:{language}:{intent}:{line}")
                message = fill(line, language, intent, rng, message_time(language, rng))
                key = normal(message.text) or message.text
                if key in seen:
                    continue
                seen.add(key)
                message.id = f"{SHORT[language]}-{intent}-{len(stratum) + 1:04d}"
                stratum.append(message)
            strata[(language, intent)] = stratum
    for stratum in strata.values():
        ordered = sorted(stratum, key=lambda m: bucket(m.id))
        edge = 0.0
        for name, share in SPLITS:
            start = round(edge * len(ordered))
            edge += share
            for message in ordered[start : round(edge * len(ordered))]:
                message.split = name
    messages = [m for stratum in strata.values() for m in stratum]
    train = [grams(m.text) for m in messages if m.split == "train"]
    dropped: list[tuple[Message, float]] = []
    kept: list[Message] = []
    for message in messages:
        if message.split == "test":
            g = grams(message.text)
            overlap = max((jaccard(g, t) for t in train), default=0.0)
            if overlap >= NEAR_DUPLICATE:
                dropped.append((message, overlap))
                continue
        kept.append(message)
    return kept + train_only(kept, seen), dropped


def train_only(messages: list[Message], seen: set[str]) -> list[Message]:
    """The third wave's train-only lines (`TRAIN_ONLY`), ids `<language>-<intent>-w<nnn>`, less
    any near-duplicate of a held-out message (counted on standard error, not shown)."""
    held = [grams(m.text) for m in messages if m.split != "train"]
    for path in HELD_OUT_FILES:
        if path.exists():
            lines = path.read_text("utf-8").splitlines()
            held += [grams(json.loads(line)["text"]) for line in lines]
    sources = [(TRAIN_ONLY, "w")] + [
        (folder, folder.name) for folder in sorted(AUTHORS.iterdir()) if folder.is_dir()
    ]
    out: list[Message] = []
    left_out = misfits = 0
    for root, tag in sources:
        for language in LANGUAGES:
            for intent in INTENTS:
                n = 0
                for line in read_lines(language, intent, root):
                    if tag != "w" and not script_fits(line, language):
                        misfits += 1
                        continue
                    seed = "train-only" if tag == "w" else f"author-{tag}"
                    rng = random.Random(f"{SEED}:{seed}:{language}:{intent}:{line}")
                    message = fill(line, language, intent, rng, message_time(language, rng))
                    key = normal(message.text) or message.text
                    g = grams(message.text)
                    if key in seen or any(jaccard(g, h) >= NEAR_DUPLICATE for h in held):
                        left_out += 1
                        continue
                    seen.add(key)
                    n += 1
                    message.id = f"{SHORT[language]}-{intent}-{tag}{n:03d}"
                    message.split = "train"
                    out.append(message)
    print(
        f"train-only lines: {len(out)} kept, {left_out} left out as near-duplicates, "
        f"{misfits} authors' lines whose script does not fit their language",
        file=sys.stderr,
    )
    return out


def overlaps(messages: list[Message]) -> list[float]:
    train = [grams(m.text) for m in messages if m.split == "train"]
    return [max(jaccard(grams(m.text), t) for t in train) for m in messages if m.split == "test"]


def table(messages: list[Message]) -> str:
    """Counts per intent and language, each cell "train / test / simulator"."""
    counts = Counter((m.intent, m.language, m.split) for m in messages)
    names = [name for name, _ in SPLITS]

    def cell(intents: tuple[str, ...], language: str) -> str:
        return " / ".join(str(sum(counts[(i, language, n)] for i in intents)) for n in names)

    rows = [
        "| intent | " + " | ".join(LANGUAGES) + " | total |",
        "|---" * (len(LANGUAGES) + 2) + "|",
    ]
    for label, intents in [*((f"`{i}`", (i,)) for i in INTENTS), ("all", INTENTS)]:
        total = sum(counts[(i, lang, n)] for i in intents for lang in LANGUAGES for n in names)
        cells = " | ".join(cell(intents, lang) for lang in LANGUAGES)
        rows.append(f"| {label} | {cells} | {total} |")
    return "\n".join(rows)


DOCS = ROOT / "docs" / "assistant.md"
TABLE = re.compile(r"(<!-- labelled-set-table -->\n).*?(\n<!-- /labelled-set-table -->)", re.S)


def write_table(text: str) -> None:
    docs = DOCS.read_text(encoding="utf-8")
    DOCS.write_text(TABLE.sub(lambda m: m.group(1) + text + m.group(2), docs), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", action="store_true", help="print the counts, write nothing")
    parser.add_argument("--docs", action="store_true", help="also put the counts in the docs")
    args = parser.parse_args()
    messages, dropped = build()
    if args.table:
        print(table(messages))
        return
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as out:
        for message in messages:
            out.write(json.dumps(message.row(), ensure_ascii=False) + "\n")
    if args.docs:
        write_table(table(messages))
    kept = overlaps(messages)
    print(f"{len(messages)} messages -> {OUT.relative_to(ROOT)}", file=sys.stderr)
    print(
        f"dropped {len(dropped)} test near-duplicates (3-gram Jaccard >= {NEAR_DUPLICATE}); "
        f"test-to-train overlap of the kept: max {max(kept):.3f}, "
        f"mean {statistics.mean(kept):.3f}, median {statistics.median(kept):.3f}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
