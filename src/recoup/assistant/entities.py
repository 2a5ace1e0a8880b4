"""Amounts and dates as debtors write them, in zh-Hans, zh-Hant and English.

Pure: text (and the message's time) in, an integer of minor units or a date out; no database, no
settings. Both parsers are grammars, not guesses: what they read is listed here, and what they do
not read gives None (a conversation asks again rather than acting on a wrong figure).

Amounts (`parse_amount`), in the account's currency's minor units:
- figures: "500", "1,200", "300.50", with a magnitude "1.5k", "2w", "1.2万", "3百", "2千5";
- Chinese numerals, simplified, traditional and financial: "五百", "一千二" (= 1,200: a digit after
  the last unit counts in the next unit down, as people say it), "两千五", "一万五", "一百零五",
  "壹仟贰佰";
- English words: "five hundred", "two thousand five hundred", "a hundred and fifty";
- currency marks before or after: "¥300", "$50", "RMB 800", "500块", "500元", "300 bucks", "200蚊".
A number that is part of a date ("15号", "12月20日", "in 3 days"), a count ("分3期", "2 months",
"3次"), a time ("3点", "10:30"), a share ("50%", "8折") or an identifier (a bare figure of more than
seven digits: a phone or a card) is not an amount. A bare figure below 10 without a currency mark is
not read as one either ("I'll pay 2 more times" is not ¥2). Among several amounts, one with a
currency mark wins, then one with a magnitude, then the first.

Dates (`parse_date`), resolved in the zone of the message's own time `at`:
- today, tomorrow, the day after: "今天", "明天", "后天", "大后天", "tmr", "the day after
  tomorrow", "聽日" (Cantonese); past days "昨天", "前天", "yesterday";
- a weekday: "周五"/"星期五"/"礼拜五"/"週五"/"Friday"/"this Friday"/"on fri" is the coming one
  (strictly after today: "周五" said on a Friday is a week on); "下周五"/"下禮拜五"/"next Friday" is that day of the next calendar
  week (weeks start on Monday), "下下周五" the week after, "上周五"/"last Friday" the past week's;
  "这周五"/"本周五" this calendar week's; "周末"/"this weekend" the coming Saturday;
- the month: "月底"/"月末"/"end of the month"/"eom" is its last day, "下月底"/"end of next month"
  the next month's, "月初"/"下月初"/"early next month" the 1st of the next month ("下个月"/"next
  month" alone names no day: none), "next week"/"下周" next week's Monday, "Friday next week" next week's Friday, "月中"/"mid-month"
  the 15th, "下个月5号" the 5th of next month;
- a day of the month: "15号", "15日", "十五号", "the 15th", "on the 1st": the next such day on or
  after today (a 31st in a shorter month is its last day);
- a day and a month: "12月20日", "12月20号", "20/12" (day first, as in China and Britain; "12/20"
  only when the second figure cannot be a month), "Dec 20", "20th of December", "2026-12-20":
  this year's, unless it was more than 30 days ago, then next year's;
- a span: "3天后", "三天内", "过两天" (= 2 days), "in 3 days", "within a week", "in two weeks",
  "一周后", "一个月后", "in a month";
- payday: "发工资后", "出粮", "after payday", "when I get paid", "after my salary" is `PAYDAY`: the next 15th on or
  after today. Chinese employers pay monthly, most often between the 10th and the 15th for the
  month before, so the 15th is the first day most people who say it have been paid; it is a
  convention, kept in one place (the labelled set follows the same rule).
With `tense="past"` (a message saying it has paid) a weekday is the latest such day strictly before
today, and a day of the month or a day and month the latest on or before today; "2 days ago",
"3天前", "last night", "刚刚" are read too. Among several dates, the first written
wins.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Literal

from recoup.kit.money import MAX_MINOR, minor_digits

Tense = Literal["future", "past"]
PAYDAY = 15  # the day of the month "after payday" means: see the module docstring
MAX_TEXT = 2000  # characters read; a message past it is read up to it
BARE_MIN = 10  # a bare figure below it (no currency mark, no magnitude) is not an amount
BARE_MAX_DIGITS = 7  # a bare figure with more integer digits is an identifier, not an amount
PAST_YEAR_DAYS = 30  # a day and month more than this many days ago means next year's


def normalize(text: str) -> str:
    """Full-width forms folded (NFKC: "５００" is "500", "￥" is "¥"), lower case, bounded."""
    return unicodedata.normalize("NFKC", text[:MAX_TEXT]).lower()


# -- numbers -------------------------------------------------------------------------------------

CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "壹": 1,
    "幺": 1,
    "二": 2,
    "贰": 2,
    "貳": 2,
    "两": 2,
    "兩": 2,
    "俩": 2,
    "倆": 2,
    "三": 3,
    "叁": 3,
    "參": 3,
    "四": 4,
    "肆": 4,
    "五": 5,
    "伍": 5,
    "六": 6,
    "陆": 6,
    "陸": 6,
    "七": 7,
    "柒": 7,
    "八": 8,
    "捌": 8,
    "九": 9,
    "玖": 9,
}
CN_SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
CN_BIG_UNITS = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}
CN_CHARS = "".join([*CN_DIGITS, *CN_SMALL_UNITS, *CN_BIG_UNITS])


def cn_number(text: str) -> int | None:
    """A Chinese numeral (ASCII digits may stand for its digits: "3百", "2万5") as an integer, or
    None when it is not one. A digit after the last unit counts in the next unit down when nothing
    (no 零) separates them: "一千二" is 1,200, "两万五" 25,000, "三百五" 350, "十五" 15."""
    if not text:
        return None
    total = 0  # the sections closed by 万 / 亿
    section = 0  # the current section below 万
    digit: int | None = None
    last_unit = 0  # the last unit seen, for the elliptical trailing digit
    zero_since_unit = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isdigit() and ch.isascii():
            j = i
            while j < len(text) and text[j].isascii() and text[j].isdigit():
                j += 1
            if digit is not None:
                return None
            digit = int(text[i:j])
            i = j
            continue
        if ch in CN_DIGITS:
            if digit is not None and CN_DIGITS[ch] != 0:
                return None  # "一二" is not a number
            value = CN_DIGITS[ch]
            if value == 0:
                zero_since_unit = True
            else:
                digit = value
        elif ch in CN_SMALL_UNITS:
            unit = CN_SMALL_UNITS[ch]
            if digit is None and unit != 10:
                return None  # "百" alone; "十" alone is ten
            section += (1 if digit is None else digit) * unit
            digit, last_unit, zero_since_unit = None, unit, False
        elif ch in CN_BIG_UNITS:
            unit = CN_BIG_UNITS[ch]
            if digit is None and section == 0:
                return None  # "万一" is "in case", not a number
            section += digit or 0
            total = (total + section) * unit
            section, digit, last_unit, zero_since_unit = 0, None, unit, False
        else:
            return None
        i += 1
    if digit is not None:
        if last_unit >= 100 and not zero_since_unit and digit < 10:
            section += digit * last_unit // 10
        else:
            section += digit
    return total + section


EN_ONES = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
EN_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
EN_SCALES = {"hundred": 100, "thousand": 1000, "k": 1000, "million": 1_000_000}
EN_WORD = "|".join(sorted([*EN_ONES, *EN_TENS, "hundred", "thousand", "million"], key=len)[::-1])


def en_number(text: str) -> int | None:
    """English number words ("two thousand five hundred", "a hundred and fifty", "twenty-five")
    as an integer, or None."""
    words = [w for w in re.split(r"[\s\-]+", text.strip()) if w and w != "and"]
    if not words:
        return None
    total, current, seen, bare = 0, 0, False, False  # bare: `current` is a lone one or teen
    for word in words:
        if word == "a":
            current, bare = max(current, 1), False
        elif word in EN_ONES:
            current += EN_ONES[word]
            seen, bare = True, current == EN_ONES[word]
        elif word in EN_TENS:
            # "five fifty" is 550, as a price is said; "fifty five" is 55
            current = current * 100 + EN_TENS[word] if bare else current + EN_TENS[word]
            seen, bare = True, False
        elif word == "hundred":
            current = max(current, 1) * 100
            seen, bare = True, False
        elif word in ("thousand", "million"):
            total += max(current, 1) * EN_SCALES[word]
            current, seen, bare = 0, True, False
        else:
            return None
    return total + current if seen else None


# -- dates ---------------------------------------------------------------------------------------

WEEKDAY_CN = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}
WEEKDAY_CN.update({str(n): n - 1 for n in range(1, 8)})
WEEK_CN = r"(?:周|週|星期|礼拜|禮拜|禮拜|拜)"
WEEKDAY_EN = {
    "monday": 0,
    "mon": 0,
    "tuesday": 1,
    "tues": 1,
    "tue": 1,
    "wednesday": 2,
    "wed": 2,
    "thursday": 3,
    "thurs": 3,
    "thur": 3,
    "thu": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sat": 5,
    "sunday": 6,
    "sun": 6,
}
WEEKDAY_EN_RE = "|".join(sorted(WEEKDAY_EN, key=len)[::-1])
MONTHS_EN = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
MONTH_EN_RE = "|".join(sorted(MONTHS_EN, key=len)[::-1])
CN_NUM = f"[0-9{CN_CHARS}]{{1,4}}"
NEXT_CN = r"(?:下个|下個|下一个|下一個|下)"
SPAN_NUM = rf"(?:[0-9]{{1,3}}|[{CN_CHARS}]{{1,3}}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|a few|few|a couple of|couple of|couple)"


@dataclass(frozen=True)
class Day:
    """The grammar's reading of a date, before the message's time resolves it."""

    kind: str
    a: int = 0
    b: int = 0
    c: int = 0


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def _clamped(year: int, month: int, day: int) -> dt.date:
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _span_count(word: str) -> int | None:
    word = word.strip()
    if word in ("a", "an", "one"):
        return 1
    if word in ("a few", "few"):
        return 3
    if word in ("a couple of", "couple of", "couple"):
        return 2
    if word.isdigit():
        return int(word)
    return en_number(word) if word.isascii() else cn_number(word)


def _en_ordinal(text: str) -> int | None:
    match = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?", text)
    return int(match.group(1)) if match else None


def _first(m: re.Match[str], *names: str) -> str:
    """The first of a pattern's alternative groups that matched."""
    groups = m.groupdict()
    return next((groups[n] for n in names if groups.get(n) is not None), "")


Maker = Callable[[re.Match[str]], Day | None]


def _relative(days: int) -> Maker:
    return lambda m: Day("offset", days)


def _weekday_cn(kind: str, week: int = 0) -> Maker:
    def make(m: re.Match[str]) -> Day | None:
        wd = WEEKDAY_CN.get(m.group("wd"))
        return None if wd is None else Day(kind, wd, week)

    return make


def _weekday_en(kind: str, week: int = 0) -> Maker:
    def make(m: re.Match[str]) -> Day | None:
        return Day(kind, WEEKDAY_EN[m.group("wd")], week)

    return make


def _span(unit_days: int, months: int = 0) -> Maker:
    def make(m: re.Match[str]) -> Day | None:
        n = _span_count(_first(m, "n", "n2"))
        if n is None or not 0 < n <= 366:
            return None
        return Day("months", n * months) if months else Day("offset", n * unit_days)

    return make


def _day_of_month(m: re.Match[str]) -> Day | None:
    raw = m.group("d")
    day = int(raw) if raw.isdigit() else cn_number(raw)
    return Day("dom", day) if day is not None and 1 <= day <= 31 else None


def _next_month_day(m: re.Match[str]) -> Day | None:
    made = _day_of_month(m)
    return None if made is None else Day("next_month_day", made.a)


def _next_month_ordinal(m: re.Match[str]) -> Day | None:
    day = _en_ordinal(_first(m, "d", "d2"))
    return Day("next_month_day", day) if day is not None and 1 <= day <= 31 else None


def _days_ago(m: re.Match[str]) -> Day | None:
    n = _span_count(_first(m, "n", "n2"))
    return Day("offset", -n) if n is not None and 0 < n <= 366 else None


def _month_day(m: re.Match[str]) -> Day | None:
    month_raw, day_raw = m.group("m"), m.group("d")
    month = int(month_raw) if month_raw.isdigit() else cn_number(month_raw)
    day = int(day_raw) if day_raw.isdigit() else cn_number(day_raw)
    if month is None or day is None or not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return Day("md", month, day)


def _slash(m: re.Match[str]) -> Day | None:
    first, second = int(m.group("a")), int(m.group("b"))
    if 1 <= second <= 12 and 1 <= first <= 31:
        return Day("md", second, first)  # day first
    if 1 <= first <= 12 and 13 <= second <= 31:
        return Day("md", first, second)
    return None


def _iso(m: re.Match[str]) -> Day | None:
    try:
        day = dt.date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
    except ValueError:
        return None
    return Day("exact", day.year, day.month, day.day)


def _en_month_day(m: re.Match[str]) -> Day | None:
    month = MONTHS_EN[m.group("mon")]
    day = _en_ordinal(m.group("d"))
    return Day("md", month, day) if day is not None and 1 <= day <= 31 else None


def _ordinal(m: re.Match[str]) -> Day | None:
    day = _en_ordinal(_first(m, "d", "d2", "d3"))
    return Day("dom", day) if day is not None and 1 <= day <= 31 else None


# Ordered: a longer or more specific form before the forms it contains ("下周五" before "周五",
# "大后天" before "后天", "day after tomorrow" before "tomorrow"). A later pattern never reads
# characters an earlier one read.
DATE_PATTERNS: tuple[tuple[re.Pattern[str], Maker], ...] = tuple(
    (re.compile(pattern), make)
    for pattern, make in [
        (r"(?P<y>20\d\d)[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})[日号號]?", _iso),
        (r"下下" + WEEK_CN + r"(?P<wd>[一二三四五六日天1-7])", _weekday_cn("week", 2)),
        (NEXT_CN + WEEK_CN + r"(?P<wd>[一二三四五六日天末1-7])", _weekday_cn("week", 1)),
        (
            r"(?:这个|這個|这|這|本|今)" + WEEK_CN + r"(?P<wd>[一二三四五六日天末1-7])",
            _weekday_cn("week", 0),
        ),
        (r"上(?:个|個)?" + WEEK_CN + r"(?P<wd>[一二三四五六日天1-7])", _weekday_cn("week", -1)),
        (WEEK_CN + r"(?P<wd>[一二三四五六日天末1-7])", _weekday_cn("coming")),
        (r"大[后後]天", _relative(3)),
        (
            r"[后後]天|(?<![0-9一二三四五六七八九十两兩几幾])[后後]日|day after tomorrow|day after tmr|day after tmrw|houtian",
            _relative(2),
        ),
        (
            r"明天|明日|明儿|明兒|聽日|听日|\btomorrow\b|\btmrw?\b|\btomoro+w?\b|\b2moro+w?\b|\btomorow\b|\bmingtian\b|\bmt\b",
            _relative(1),
        ),
        (
            r"今天|今日|今晚|今早|今朝|刚刚|剛剛|刚才|剛才|\btoday\b|\btonight\b|\btdy\b|\bjintian\b|\bthis morning\b|\bjust now\b",
            _relative(0),
        ),
        (r"昨天|昨日|昨晚|尋日|琴日|\byesterday\b|\bytd\b|\blast night\b", _relative(-1)),
        (
            r"\b(?P<n>\d{1,2}|"
            + EN_WORD
            + r") days? ago\b|(?P<n2>[0-9一二三四五六七八九十两兩]{1,2})(?:天|日)(?:之?前|以前)",
            _days_ago,
        ),
        (r"前天|\bday before yesterday\b", _relative(-2)),
        (
            r"下下?(?:个|個)?月(?:底|末|尾)|end of next month",
            lambda m: Day("month_end", 1 + m.group(0).startswith("下下")),
        ),
        (
            r"月底|月末|月尾|end of (?:the |this )?month|month[- ]end|\beom\b",
            lambda m: Day("month_end", 0),
        ),
        (
            r"下?(?:个|個)?月初|(?:beginning|start|early) (?:of )?next month",
            lambda m: Day("next_month_day", 1),
        ),
        (
            r"\bnext month on the (?P<d>\d{1,2})(?:st|nd|rd|th)?\b|\bthe (?P<d2>\d{1,2})(?:st|nd|rd|th)? (?:of )?next month\b",
            _next_month_ordinal,
        ),
        (r"月中|mid[- ]month|middle of (?:the |this )?month", lambda m: Day("dom", 15)),
        (NEXT_CN + r"月(?P<d>" + CN_NUM + r")[号號日]?", _next_month_day),
        (r"(?P<m>" + CN_NUM + r")月(?P<d>" + CN_NUM + r")[号號日]?", _month_day),
        (r"(?<![\d.:/])(?P<a>\d{1,2})/(?P<b>\d{1,2})(?![\d/])", _slash),
        (r"\b(?P<mon>" + MONTH_EN_RE + r")\.? (?P<d>\d{1,2}(?:st|nd|rd|th)?)\b", _en_month_day),
        (
            r"\b(?:the )?(?P<d>\d{1,2}(?:st|nd|rd|th)?) (?:of )?(?P<mon>" + MONTH_EN_RE + r")\b",
            _en_month_day,
        ),
        (r"(?:过|過)(?P<n>" + SPAN_NUM + r")(?:天|日)", _span(1)),
        (r"(?P<n>" + SPAN_NUM + r")(?:天|日)(?:之?[后後]|内|內|以内|以內)", _span(1)),
        (
            r"(?P<n>"
            + SPAN_NUM
            + r")(?:个|個)?(?:星期|礼拜|禮拜|周|週)(?:之?[后後]|内|內|以内|以內)",
            _span(7),
        ),
        (r"(?P<n>" + SPAN_NUM + r")(?:个|個)月(?:之?[后後]|内|內|以内|以內)", _span(0, 1)),
        (
            r"\b(?:in|within|after) (?P<n>"
            + SPAN_NUM
            + r") ?days?\b|\b(?P<n2>\d{1,3}) days? (?:later|from now)\b",
            _span(1),
        ),
        (r"\b(?:in|within|after) (?P<n>" + SPAN_NUM + r") ?weeks?\b", _span(7)),
        (r"\b(?:in|within|after) (?P<n>" + SPAN_NUM + r") ?months?\b", _span(0, 1)),
        (r"\b(?P<wd>" + WEEKDAY_EN_RE + r") next week\b", _weekday_en("week", 1)),
        (
            r"\bnext week\b|下(?:个|個)?(?:星期|礼拜|禮拜|周|週)(?![一二三四五六日天末1-7])",
            lambda m: Day("week", 0, 1),
        ),
        (r"\bnext (?P<wd>" + WEEKDAY_EN_RE + r")\b", _weekday_en("week", 1)),
        (r"\blast (?P<wd>" + WEEKDAY_EN_RE + r")\b", _weekday_en("week", -1)),
        (
            r"\b(?:this|coming|this coming|on|by) (?P<wd>" + WEEKDAY_EN_RE + r")\b",
            _weekday_en("coming"),
        ),
        (
            r"\b(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday|tues|thurs|thur|wed|fri|mon|tue|thu)\b",
            _weekday_en("coming"),
        ),
        (r"\b(?:this )?weekend\b|周末|週末", lambda m: Day("coming", 5)),
        (
            r"\bthe (?P<d>\d{1,2}(?:st|nd|rd|th))\b|\bon the (?P<d2>\d{1,2})\b|\b(?P<d3>\d{1,2}(?:st|nd|rd|th))\b",
            _ordinal,
        ),
        (r"(?<![\d.:])(?P<d>\d{1,2}|[" + CN_CHARS + r"]{1,3})(?:号|號|日)(?!元|块)", _day_of_month),
        (
            r"发工资|發工資|发薪|發薪|出粮|出糧|领工资|領工資|领薪|領薪|工资到|工資到|工资下来|工資落|\bpay ?day\b|\bget paid\b|\bpaycheck\b|\bpaycheque\b|after (?:my )?(?:salary|wages?)\b|(?:salary|wages?) (?:comes?|arrives?|is in)\b",
            lambda m: Day("payday"),
        ),
    ]
)


@dataclass(frozen=True)
class Found:
    start: int
    end: int
    day: Day


# Any pattern at all, in one search: most messages name no date and are done after it.
ANY_DATE = re.compile(
    "|".join(re.sub(r"\(\?P<\w+>", "(?:", pattern.pattern) for pattern, _ in DATE_PATTERNS)
)


@lru_cache(maxsize=4096)
def find_dates(text: str) -> tuple[Found, ...]:
    """Every date the grammar reads in normalized text, in text order, no two overlapping
    (cached: the amount and the date of one message both ask)."""
    if not ANY_DATE.search(text):
        return ()
    taken: list[tuple[int, int]] = []
    found: list[Found] = []
    for pattern, make in DATE_PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < e and s < end for s, e in taken):
                continue
            day = make(match)
            if day is None:
                continue
            taken.append((start, end))
            found.append(Found(start, end, day))
    return tuple(sorted(found, key=lambda f: f.start))


def _coming_weekday(today: dt.date, weekday: int, tense: Tense) -> dt.date:
    if tense == "past":
        return today - dt.timedelta(days=(today.weekday() - weekday) % 7 or 7)
    return today + dt.timedelta(days=(weekday - today.weekday()) % 7 or 7)


def _day_of_month_from(today: dt.date, day: int, tense: Tense) -> dt.date:
    this = _clamped(today.year, today.month, day)
    if tense == "past":
        return this if this <= today else _clamped(*_shift(today, -1), day)
    return this if this >= today else _clamped(*_shift(today, 1), day)


def _shift(today: dt.date, months: int) -> tuple[int, int]:
    index = today.year * 12 + today.month - 1 + months
    return index // 12, index % 12 + 1


def resolve(day: Day, today: dt.date, tense: Tense = "future") -> dt.date | None:
    """The date a reading means on `today` (the message's local date)."""
    if day.kind == "offset":
        return today + dt.timedelta(days=day.a)
    if day.kind == "months":
        return _add_months(today, day.a)
    if day.kind == "coming":
        return _coming_weekday(today, day.a, tense)
    if day.kind == "week":
        monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=day.b)
        return monday + dt.timedelta(days=day.a)
    if day.kind == "month_end":
        return _month_end(*_shift(today, day.a))
    if day.kind == "next_month_day":
        return _clamped(*_shift(today, 1), day.a)
    if day.kind == "dom":
        return _day_of_month_from(today, day.a, tense)
    if day.kind == "payday":
        return _day_of_month_from(today, PAYDAY, "future")
    if day.kind == "md":
        this = _clamped(today.year, day.a, day.b)
        if tense == "past":
            return this if this <= today else _clamped(today.year - 1, day.a, day.b)
        if this < today - dt.timedelta(days=PAST_YEAR_DAYS):
            return _clamped(today.year + 1, day.a, day.b)
        return this
    if day.kind == "exact":
        return dt.date(day.a, day.b, day.c)
    return None


def parse_date(text: str, at: dt.datetime, *, tense: Tense = "future") -> dt.date | None:
    """The date a message names, resolved against its time `at` (aware) in `at`'s own zone; None
    when it names none. Among several, the first written wins ("发工资那天先还1万 其他的下个月":
    payday)."""
    if at.tzinfo is None:
        raise ValueError("at must be an aware datetime (the message's time in the debtor's zone)")
    found = find_dates(normalize(text))
    if not found:
        return None
    return resolve(found[0].day, at.date(), tense)


# -- amounts -------------------------------------------------------------------------------------

MARK_BEFORE = r"(?P<pre>¥|\$|hk\$|nt\$|us\$|rmb|cny|usd|hkd|twd|人民币|人民幣)"
MARK_AFTER = r"(?P<post>块钱|塊錢|块|塊|元|圆|圓|蚊|rmb|cny|usd|hkd|twd|yuan|kuai|dollars?|bucks?|港币|港幣|美元|美金|台币|台幣)"
FIGURE = r"(?P<fig>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d+))?"
MAGNITUDE = (
    r"(?P<mag>hundred|thousand|k|w|千|仟|万|萬|百|佰|十)(?P<tail>[0-9" + "".join(CN_DIGITS) + r"])?"
)
FIGURE_RE = re.compile(
    r"(?:"
    + MARK_BEFORE
    + r"\s?)?(?<![\d.,])"
    + FIGURE
    + r"(?:\s?"
    + MAGNITUDE
    + r"(?![a-z]))?(?:\s?"
    + MARK_AFTER
    + r"(?P<jiao>(?<=[块塊元])[0-9](?![0-9.]))?)?"
)
CN_RE = re.compile(
    r"(?:" + MARK_BEFORE + r"\s?)?(?P<cn>[" + CN_CHARS + r"]+)(?:\s?" + MARK_AFTER + r")?"
)
EN_RE = re.compile(
    r"(?:"
    + MARK_BEFORE
    + r"\s?)?\b(?P<en>(?:(?:a|"
    + EN_WORD
    + r")\b[\s\-]+(?:and[\s\-]+)?){0,8}(?:"
    + EN_WORD
    + r"))\b(?:\s?"
    + MARK_AFTER
    + r")?"
)
# A count, a time, a share or an ordinal: what follows a number that is not an amount.
NOT_AFTER = re.compile(
    r"(?:期|个|個|月|天|日|号|號|周|週|星期|礼拜|禮拜|次|分|点|點|岁|歲|年|小时|小時|倍|成|折|%|笔|筆|位|人|张|張|条|條|时|時|:|："
    r"|\s?(?:期|个月|個月|次|笔|筆|%)"
    r"|\s?(?:days?\b|weeks?\b|months?\b(?! ?end)|years?\b|times?\b|instal+ments?\b|payments?\b|parts?\b|hours?\b|hrs?\b|mins?\b|minutes?\b"
    r"|am\b|pm\b|percent|st\b|nd\b|rd\b|th\b|x\b|o'?clock|more\b|people\b|kids?\b|children\b))"
)
NOT_BEFORE = re.compile(r"(?:第|分|尾号|尾號|#|\bno\.?\s?|:|：|\d[.,]?)$")


@dataclass(frozen=True)
class _Amount:
    start: int
    major: Decimal
    marked: bool
    magnitude: bool


def _figure_value(m: re.Match[str]) -> tuple[Decimal, bool] | None:
    whole = m.group("fig").replace(",", "")
    value = Decimal(whole + ("." + m.group("frac") if m.group("frac") else ""))
    mag, tail = m.group("mag"), m.group("tail")
    if m.group("jiao") and not m.group("frac") and mag is None:
        value += Decimal(m.group("jiao")) / 10  # "99块5" is 99.50: the digit after 块 is jiao
    if mag is None:
        return value, False
    unit = {
        "thousand": 1000,
        "hundred": 100,
        "k": 1000,
        "w": 10_000,
        "千": 1000,
        "仟": 1000,
        "万": 10_000,
        "萬": 10_000,
    }.get(mag)
    unit = unit or {"百": 100, "佰": 100, "十": 10}[mag]
    value *= unit
    if tail is not None:
        if m.group("frac"):
            return None  # "1.5千2" is not a way to write a number
        digit = int(tail) if tail.isdigit() else CN_DIGITS[tail]
        value += digit * unit // 10
    return value, True


def _candidates(text: str, blocked: list[tuple[int, int]]) -> Iterator[_Amount]:
    def clear(start: int, end: int) -> bool:
        return not any(start < e and s < end for s, e in blocked)

    for m in FIGURE_RE.finditer(text):
        core_start = m.start("fig")
        if not clear(m.start(), m.end()):
            continue
        marked = bool(m.group("pre") or m.group("post"))
        if not marked and (
            NOT_AFTER.match(text, m.end())
            or NOT_BEFORE.search(text[max(0, core_start - 4) : core_start])
        ):
            continue
        read = _figure_value(m)
        if read is None:
            continue
        value, magnitude = read
        if not (marked or magnitude) and (
            value < BARE_MIN or len(m.group("fig").replace(",", "")) > BARE_MAX_DIGITS
        ):
            continue
        yield _Amount(m.start(), value, marked, magnitude)
    for m in CN_RE.finditer(text):
        if not clear(m.start(), m.end()):
            continue
        number = cn_number(m.group("cn"))
        if number is None or number == 0:
            continue
        marked = bool(m.group("pre") or m.group("post"))
        magnitude = any(ch in CN_SMALL_UNITS or ch in CN_BIG_UNITS for ch in m.group("cn"))
        if not marked:
            if not magnitude or number < BARE_MIN:
                continue
            if NOT_AFTER.match(text, m.end()) or NOT_BEFORE.search(
                text[max(0, m.start() - 4) : m.start()]
            ):
                continue
        yield _Amount(m.start(), Decimal(number), marked, magnitude)
    for m in EN_RE.finditer(text):
        if not clear(m.start(), m.end()):
            continue
        number = en_number(m.group("en"))
        if number is None or number == 0:
            continue
        marked = bool(m.group("pre") or m.group("post"))
        magnitude = number >= 100
        if not marked and (number < BARE_MIN or NOT_AFTER.match(text, m.end())):
            continue
        yield _Amount(m.start(), Decimal(number), marked, magnitude)


def parse_amount(text: str, currency: str = "CNY") -> int | None:
    """The amount a message names in `currency`'s minor units, or None (see the module docstring
    for what is read and what is not)."""
    normalized = normalize(text)
    blocked = [(f.start, f.end) for f in find_dates(normalized)]
    found = list(_candidates(normalized, blocked))
    if not found:
        return None
    best = min(found, key=lambda a: (not a.marked, not a.magnitude, a.start))
    try:
        minor = (best.major.scaleb(minor_digits(currency))).quantize(Decimal(1), ROUND_HALF_UP)
    except InvalidOperation:
        return None
    if minor <= 0 or minor > MAX_MINOR:
        return None
    return int(minor)
