"""Reading CSV: the Polars reading of plain files gives what the `csv` module's reading gives."""

from __future__ import annotations

import random
import sys

from recoup.ingest import reading

ALPHABET = ["a", "Z", "7", "-", ".", "王", "@", ",", ",", " ", "\t", "\x0b", "\x1c", "\u3000"]
ALPHABET += ["\u2028", "\xa0", "\n", "\n", "é", "😀", "'", ";"]


def _plain_text(rng: random.Random) -> str:
    width = rng.randint(1, 5)
    header = ",".join(rng.choice([" ", ""]) + f"c{i}" for i in range(width))
    body = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 200)))
    return header + "\n" + body + rng.choice(["", "\n", "\n\n"])


class TestPlainCsv:
    def test_same_rows_lines_and_errors_as_the_csv_module(self) -> None:
        """Catches a Polars reading that differs from `csv.reader` on any plain file: another
        strip (Unicode's instead of Python's white space), an empty line counted as a record,
        a wrong line number, a ragged row not reported as the `csv` reading reports it."""
        rng = random.Random(23)
        read = 0
        for _ in range(400):
            text = _plain_text(rng)
            plain = reading._read_plain_csv("f.csv", text)
            if plain is None:
                continue
            read += 1
            frame, errors = reading._read_any_csv("f.csv", text)
            assert plain[1] == errors, text
            assert plain[0].equals(frame), text
            assert plain[0].columns == frame.columns
        assert read > 300

    def test_unsure_files_are_left_to_the_csv_module(self) -> None:
        assert reading._read_plain_csv("f.csv", "") is None
        assert reading._read_plain_csv("f.csv", "a,a\n1,2\n") is None
        assert reading._read_plain_csv("f.csv", "a,_line\n1,2\n") is None
        assert reading._read_plain_csv("f.csv", "a\n" + "x" * 200_000 + "\n") is None
        frame, errors = reading._read_csv("f.csv", 'a,b\n"1,2",3\n')  # quoted: the csv module
        assert frame["a"].to_list() == ["1,2"]
        assert not errors

    def test_white_space_is_pythons(self) -> None:
        expected = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
        assert expected == reading.WHITESPACE
