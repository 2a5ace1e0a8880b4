"""A letter rendered to PDF, turned into a PNG with poppler's pdftoppm, looked at: the Chinese
text is there as glyphs (not empty boxes) and every field of the US validation notice prints."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from recoup.channels.letter import (
    CFPB_REFERENCE,
    US_FIELDS,
    Letter,
    LetterProblem,
    find_font,
    mask_account,
    render_pdf,
    validation_end,
)
from tests.channels.letters import CN_VALUES, POSTED, US_VALUES, cn_letter, us_letter

pytestmark = pytest.mark.pure

ARTIFACTS = Path(os.environ.get("RECOUP_TEST_ARTIFACTS", "test-artifacts")) / "letters"
POPPLER = shutil.which("pdftoppm") and shutil.which("pdftotext")
needs_poppler = pytest.mark.skipif(
    not POPPLER, reason="poppler-utils (pdftoppm, pdftotext) not installed"
)
DPI = 100


def write(letter: Letter, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.pdf"
    path.write_bytes(render_pdf(letter, find_font()))
    return path


def text_of(pdf: Path) -> str:
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True)
    return " ".join(out.stdout.decode().split())


def png_of(pdf: Path) -> Path:
    stem = pdf.with_suffix("")
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            str(DPI),
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(pdf),
            str(stem),
        ],
        check=True,
    )
    return stem.with_suffix(".png")


def word_box(pdf: Path, word: str) -> tuple[float, float, float, float]:
    """Where pdftotext says a word is on page 1, in points: (x0, y0, x1, y1)."""
    out = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, check=True
    ).stdout.decode()
    for m in re.finditer(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', out
    ):
        if word in m.group(5):
            x0, y0, x1, y1 = (float(m.group(i)) for i in range(1, 5))
            return x0, y0, x1, y1
    raise AssertionError(f"{word!r} not found on page 1")


def ink(png: Path, box: tuple[float, float, float, float]) -> float:
    """The share of dark pixels inside a box given in points."""
    scale = DPI / 72
    image = Image.open(png).convert("L")
    x0, y0, x1, y1 = (round(v * scale) for v in box)
    region = image.crop((x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)))
    histogram = region.histogram()
    return sum(histogram[:128]) / sum(histogram)


@needs_poppler
class TestChineseLetter:
    def test_the_png_shows_the_chinese_subject_line_in_ink(self) -> None:
        pdf = write(cn_letter(), "cn-late-notice")
        png = png_of(pdf)
        assert png.is_file()
        box = word_box(pdf, "逾期还款提醒函")
        assert ink(png, box) > 0.08  # glyphs, not an empty line (a font without CJK prints none)
        beside = (box[2] + 20, box[1], box[2] + 20 + (box[2] - box[0]), box[3])
        assert ink(png, beside) < 0.01  # the same line past its end: paper, so the measure holds

    def test_the_text_and_every_chinese_field_are_there(self) -> None:
        text = text_of(write(cn_letter(), "cn-late-notice"))
        assert "逾期还款提醒函" in text
        assert "张伟您好" in text
        for label in ("债权机构", "应还金额", "还款方式", "投诉渠道"):
            assert label in text
        for value in CN_VALUES.values():
            assert " ".join(value.split()) in text
        assert "2026年6月16日" in text  # dated by its posting day

    def test_the_font_is_embedded(self) -> None:
        pdf = write(cn_letter(), "cn-late-notice")
        fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, check=True)
        rows = fonts.stdout.decode().splitlines()[2:]
        assert rows
        assert all(" yes " in row for row in rows)


@needs_poppler
class TestUsValidationNotice:
    def test_every_required_field_prints(self) -> None:
        pdf = write(us_letter(), "us-validation-notice")
        png_of(pdf)
        text = text_of(pdf)
        for _, label in US_FIELDS:
            assert label in text, label
        for value in US_VALUES.values():
            assert value in text
        for part in ("Recoup Wallet Collections", "PO Box 100", "Alex Doe", "1 Main St", "Albany"):
            assert part in text
        assert "is a debt collector" in text
        assert "to dispute all or part of the debt" in text  # the dispute prompt
        assert "name and address of the original creditor" in text
        assert CFPB_REFERENCE in text
        assert "How do you want to respond?" in text
        assert "This is not my debt." in text
        assert "The amount is wrong." in text
        end = validation_end(POSTED)
        assert end.strftime("%B %-d, %Y") in text
        assert "June 16, 2026" in text


class TestRequiredFields:
    def test_a_letter_without_a_required_field_is_refused(self) -> None:
        """Catches removing `Letter.missing()` from `render_pdf`."""
        with pytest.raises(LetterProblem, match="current_amount"):
            render_pdf(us_letter(current_amount=""), find_font())

    def test_an_incomplete_address_is_refused_without_saying_it(self) -> None:
        letter = us_letter()
        broken = Letter(**{**letter.__dict__, "recipient": letter.recipient.__class__("", ())})
        with pytest.raises(LetterProblem) as caught:
            render_pdf(broken, find_font())
        assert "consumer_name_and_address" in str(caught.value)
        assert "Main St" not in str(caught.value)

    def test_the_validation_period_never_ends_before_the_law_allows(self) -> None:
        # Posted Tuesday 16 June: 5 weekdays is Tuesday 23 June, +30 = 23 July; two more weekdays
        # for holidays make 25 July.
        assert validation_end(POSTED).isoformat() == "2026-07-25"
        friday = validation_end(POSTED.replace(day=19))
        assert friday.isoformat() == "2026-07-30"  # Fri 19 → 7 weekdays → Tue 30 June, +30

    def test_an_account_number_is_masked(self) -> None:
        assert mask_account("ACC-0000004821") == "****4821"


class TestFont:
    def test_a_configured_font_without_chinese_is_refused(self, tmp_path: Path) -> None:
        latin = (
            shutil.which("fc-match")
            and subprocess.run(
                ["fc-match", "-f", "%{file}", "DejaVu Sans"], capture_output=True, text=True
            ).stdout
        )
        if not latin or "wqy" in latin or not Path(latin).is_file():
            pytest.skip("no Latin-only font installed to try")
        with pytest.raises(LetterProblem, match="no Chinese glyphs"):
            find_font(latin)

    def test_a_missing_font_file_names_the_setting(self, tmp_path: Path) -> None:
        with pytest.raises(LetterProblem, match="RECOUP_LETTER_FONT"):
            find_font(str(tmp_path / "none.ttf"))
