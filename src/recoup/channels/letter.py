"""Letters: an approved template's text with the disclosures a jurisdiction requires, as a PDF.

A `Letter` is what the dispatcher hands the post channel: who sends it and to whom (name and postal
address), the day it is posted (it is dated by that day), the rendered template (subject and body)
and the disclosure fields. `render_pdf` lays it out for a window envelope (the recipient's block at
the left, 45 mm from the top) and refuses a letter that lacks a field its jurisdiction requires:
- **US** (Regulation F, 12 CFR 1006.34(c)): the validation notice. The collector's name and mailing
  address, the consumer's name and address, the creditor on the itemization date, the account
  number (masked), the current creditor, the itemization date, the amount then, the interest, fees,
  payments and credits since, the current amount, and the end of the validation period, with the
  dispute and original-creditor statements, the CFPB reference and the response section, in
  English (1006.34(d)(3)(vi) allows a translation only beside the English form).
- **CN**: the creditor, the amount, how to pay, and where to complain (regulation-rules §2.1, CBA
  2026; NFRA consumer-protection rules). The fixed wording says nothing a pack forbids; the whole
  printed text is what the guard's content check reads (`Letter.text`).

The renderer is fpdf2 (PyPI `fpdf2`, LGPL, maintained): pure Python, embeds a subset of a TrueType
font, so a letter in Chinese prints the same anywhere. The font is `RECOUP_LETTER_FONT` or, without
it, what fontconfig (`fc-match`) finds for Chinese; Debian's `fonts-wqy-microhei` is the one
.ci/run installs. A font that has no Chinese glyphs is refused with a clear error, not a letter of
empty boxes.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

FONT_VARIABLE = "RECOUP_LETTER_FONT"
_FAMILY = "letter"
_CJK_PROBE = "中"  # a glyph every Chinese font has


class LetterProblem(ValueError):
    """A letter that must not be printed: a missing required field, a font that cannot print it.
    The message names fields, never their values (it is stored as the contact's reason)."""


@dataclass(frozen=True)
class PostalAddress:
    name: str
    lines: tuple[str, ...]
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str = "US"  # ISO 3166-1 alpha-2

    def block(self) -> list[str]:
        """The address as printed: name, street lines, then the place in the country's order."""
        if self.country == "CN":
            # Chinese order: the postcode, then province and city down to the street, then the name.
            place = "".join(p for p in (self.region, self.city) if p and p != self.city) + (
                self.city or ""
            )
            street = place + "".join(self.lines)
            return [p for p in (self.postal_code, street, self.name) if p]
        last = ", ".join(p for p in (self.city, self.region) if p)
        last = " ".join(p for p in (last, self.postal_code) if p)
        return [p for p in (self.name, *self.lines, last, self.country) if p]

    def complete(self) -> bool:
        return bool(self.name.strip() and any(line.strip() for line in self.lines))


# (key, label) of the fields each jurisdiction requires, in the order they print.
US_FIELDS: tuple[tuple[str, str], ...] = (
    ("itemization_creditor", "Creditor as of the itemization date"),
    ("account_number", "Account number"),
    ("current_creditor", "Current creditor"),
    ("itemization_date", "Itemization date"),
    ("itemization_amount", "As of the itemization date, you owed"),
    ("interest_since", "Between then and now, you were charged this amount in interest (+)"),
    ("fees_since", "Between then and now, you were charged this amount in fees (+)"),
    ("payments_since", "Between then and now, you paid this amount toward the debt (-)"),
    ("credits_since", "Between then and now, you were credited this amount (-)"),
    ("current_amount", "Total amount of the debt now"),
)
CN_FIELDS: tuple[tuple[str, str], ...] = (
    ("creditor", "债权机构"),
    ("amount", "应还金额"),
    ("how_to_pay", "还款方式"),
    ("complaints", "投诉渠道"),
)
REQUIRED = {"US": US_FIELDS, "CN": CN_FIELDS}
CFPB_REFERENCE = "www.cfpb.gov/debt-collection"


@dataclass(frozen=True)
class Letter:
    jurisdiction: str  # "US", "US-NY-NYC", "CN"...: the country part picks the disclosures
    language: str  # the body's language: zh-CN, zh-TW, en
    sender: PostalAddress  # the collector (or creditor) and its mailing address for disputes
    recipient: PostalAddress
    posted: dt.date  # the day it is handed to the post: the letter's date
    subject: str
    body: str
    fields: Mapping[str, str] = field(default_factory=dict)

    @property
    def country(self) -> str:
        return self.jurisdiction.split("-")[0]

    def missing(self) -> list[str]:
        """The required fields this letter lacks (names, never values)."""
        out = []
        if not self.sender.complete():
            out.append("collector_name_and_address")
        if not self.recipient.complete():
            out.append("consumer_name_and_address")
        out += [key for key, _ in REQUIRED.get(self.country, ()) if not self.fields.get(key)]
        return out

    def disclosures(self) -> list[str]:
        """The disclosure block's lines, fixed wording with this letter's values."""
        if self.country == "US":
            return _us_notice(self)
        if self.country == "CN":
            return [f"{label}：{self.fields.get(key, '')}" for key, label in CN_FIELDS] + [
                "如对本函所列金额有异议，可通过上述投诉渠道与我们联系，我们将在十五日内答复。"
            ]
        return []

    def text(self) -> str:
        """Everything the letter prints, as plain text: what the guard's content check reads."""
        parts = [
            *self.sender.block(),
            self.posted.isoformat(),
            *self.recipient.block(),
            self.subject,
            self.body,
            *self.disclosures(),
        ]
        return "\n".join(p for p in parts if p)


def validation_end(posted: dt.date) -> dt.date:
    """The end of the US validation period: 30 days after the day the consumer is assumed to
    receive the notice. 12 CFR 1006.34(b)(5) lets the collector assume receipt on any date at
    least five days after posting, not counting Saturdays, Sundays and federal holidays. Without a
    federal calendar here, two more weekdays are allowed for holidays: a later end date than the
    earliest lawful one, never an earlier one."""
    day, weekdays = posted, 0
    while weekdays < 7:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            weekdays += 1
    return day + dt.timedelta(days=30)


def mask_account(reference: str) -> str:
    """The account number as a letter may show it: its last four characters (1006.34(c)(2)(vi)
    allows a truncated number; an envelope can be opened by anyone in the household)."""
    tail = reference.strip()[-4:]
    return f"****{tail}" if tail else ""


def _us_notice(letter: Letter) -> list[str]:
    f = letter.fields
    end = validation_end(letter.posted).strftime("%B %d, %Y").replace(" 0", " ")
    collector = letter.sender.name
    lines = [
        "VALIDATION NOTICE",
        f"{collector} is a debt collector. We are trying to collect a debt that you owe to "
        f"{f.get('current_creditor', '')}. We will use any information you give us to help "
        "collect the debt.",
        "Our information shows:",
        *(f"{label}: {f.get(key, '')}" for key, label in US_FIELDS),
        "How can you dispute the debt?",
        f"Call or write to us by {end}, to dispute all or part of the debt. If you do not, we "
        "will assume that our information is correct.",
        f"If you write to us by {end}, we must stop collection on any amount you dispute until "
        "we send you information that shows you owe the debt. You may use the form below or "
        "write to us without the form.",
        "What else can you do?",
        f"Write to ask for the name and address of the original creditor, if different from "
        f"the current creditor. If you write by {end}, we must stop collection until we send "
        "you that information.",
        f"Go to {CFPB_REFERENCE} to learn more about your rights under federal law.",
        f"Mail this form to: {', '.join(letter.sender.block())}",
        "How do you want to respond?",
        "I want to dispute the debt because I think:",
        "[ ] This is not my debt.   [ ] The amount is wrong.   [ ] Other (please describe).",
        "[ ] I want you to send me the name and address of the original creditor.",
        "[ ] I enclosed this amount: ____________",
    ]
    return lines


@dataclass(frozen=True)
class Font:
    path: Path
    collection_index: int = 0


def find_font(configured: str | None = None) -> Font:
    """The font letters are printed in: `configured` (or `RECOUP_LETTER_FONT`), else fontconfig's
    choice for Simplified Chinese. Refused unless it can print Chinese."""
    chosen = configured or os.environ.get(FONT_VARIABLE)
    if chosen:
        path = Path(chosen)
        if not path.is_file():
            raise LetterProblem(f"{FONT_VARIABLE}: no font file at {path}")
    else:
        path = _fontconfig_cjk()
    font = Font(path)
    if not _has_cjk(str(font.path)):
        raise LetterProblem(
            f"the letter font {font.path} has no Chinese glyphs: install fonts-wqy-microhei "
            f"(Debian) or set {FONT_VARIABLE} to a TrueType/OpenType font that has them"
        )
    return font


def _fontconfig_cjk() -> Path:
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        raise LetterProblem(
            f"no letter font: set {FONT_VARIABLE} (fontconfig's fc-match is not installed)"
        )
    found = subprocess.run(  # noqa: S603 (a fixed command, no shell)
        [fc_match, "-f", "%{file}", ":lang=zh-cn"],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    ).stdout.strip()
    if not found or not Path(found).is_file():
        raise LetterProblem(f"no letter font: fontconfig found none; set {FONT_VARIABLE}")
    return Path(found)


@lru_cache(maxsize=8)
def _has_cjk(path: str) -> bool:
    from fontTools.ttLib import (  # type: ignore[import-untyped]  # fpdf2's dependency
        TTCollection,
        TTFont,
    )

    try:
        if path.lower().endswith(".ttc"):
            font = TTCollection(path).fonts[0]
        else:
            font = TTFont(path, lazy=True)
        cmap = font.getBestCmap() or {}
    except Exception:
        return False
    return ord(_CJK_PROBE) in cmap


def render_pdf(letter: Letter, font: Font) -> bytes:
    """The letter as a PDF (US Letter paper in the US, A4 elsewhere), the font embedded."""
    missing = letter.missing()
    if missing:
        raise LetterProblem(f"letter lacks required field(s): {', '.join(missing)}")
    from fpdf import FPDF
    from fpdf.enums import WrapMode, XPos, YPos

    pdf = FPDF(format="letter" if letter.country == "US" else "A4", unit="mm")
    pdf.set_creation_date(
        dt.datetime.combine(letter.posted, dt.time(), tzinfo=dt.UTC)
    )  # same letter, same bytes
    pdf.set_title(letter.subject)
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_font(_FAMILY, fname=str(font.path), collection_font_number=font.collection_index)
    pdf.add_page()
    wrap = WrapMode.CHAR if letter.language.startswith("zh") or letter.country == "CN" else None

    def lines(texts: Sequence[str], size: float, height: float, gap: float = 0.0) -> None:
        pdf.set_font(_FAMILY, size=size)
        for text in texts:
            pdf.multi_cell(
                0,
                height,
                text,
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
                wrapmode=wrap or WrapMode.WORD,
            )
            if gap:
                pdf.ln(gap)

    lines(letter.sender.block(), 9, 4.5)
    pdf.set_y(45)  # the window of a DL or #10 envelope
    lines(letter.recipient.block(), 11, 5.5)
    pdf.set_y(max(pdf.get_y() + 8, 80))
    lines([_date(letter)], 10, 5, 3)
    lines([letter.subject], 13, 7, 3)
    lines([p for p in letter.body.split("\n") if p.strip()], 11, 6, 1.5)
    block = letter.disclosures()
    if block:
        pdf.ln(4)
        lines(block, 9.5, 4.8, 0.8)
    return bytes(pdf.output())


def _date(letter: Letter) -> str:
    d = letter.posted
    if letter.language.startswith("zh"):
        return f"{d.year}年{d.month}月{d.day}日"
    return d.strftime("%B %d, %Y").replace(" 0", " ")
