"""An article's body as the portal shows it: a small, closed format instead of HTML, so an
approved article can carry no markup, script or link that a reviewer did not see as text.

Blocks are separated by blank lines: a line starting `## ` is a heading, lines starting `- `
make a list, `[[rights]]` alone stands for the debtor's rights from the rule packs (`rights.py`),
other lines are a paragraph.

A chunk whose first line is `[[only CN]]` (or `[[only US GB]]`: country codes) is read only by a
debtor of those countries, as the rights article cites only the reader's own country's law: a
fact of one country's law (China's five years of credit records, the US's seven) is said to its
readers, and everyone else reads the article's neutral words around it. A pure engine."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from babel import Locale

RIGHTS = "[[rights]]"
ONLY = re.compile(r"^\[\[only ([A-Z]{2}(?: [A-Z]{2})*)\]\]$")


@dataclass(frozen=True)
class Block:
    kind: str  # heading, paragraph, list, rights
    lines: tuple[str, ...]
    countries: tuple[str, ...] = ()  # read only in these countries; empty: by everyone


def blocks(body: str) -> tuple[Block, ...]:
    out: list[Block] = []
    for chunk in body.replace("\r\n", "\n").split("\n\n"):
        lines = [line.strip() for line in chunk.strip().split("\n") if line.strip()]
        only = ONLY.match(lines[0]) if lines else None
        countries = tuple(only.group(1).split()) if only else ()
        if only:
            lines = lines[1:]
        if lines == [RIGHTS]:
            out.append(Block("rights", (), countries))
            continue
        out += [Block(b.kind, b.lines, countries) for b in _lines(lines)]
    return tuple(out)


def for_country(shown: tuple[Block, ...], country: str) -> tuple[Block, ...]:
    """The blocks a reader in `country` (ISO 3166 alpha-2) reads."""
    return tuple(b for b in shown if not b.countries or country.upper() in b.countries)


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    return frozenset(str(k) for k in Locale("en").territories if re.fullmatch(r"[A-Z]{2}", str(k)))


def problems(body: str) -> list[str]:
    """What an editor gets wrong in the markers, by line: an `[[only ...]]` that is not a chunk's
    first line, that names no country or an unknown code, any other `[[...]]` but `[[rights]]`.
    Saved as it was, such a line would be shown to every reader as text."""
    found: list[str] = []
    first = True
    for number, raw in enumerate(body.replace("\r\n", "\n").split("\n"), start=1):
        line = raw.strip()
        if not line:
            first = True
            continue
        at_start, first = first, False
        if not line.startswith("[[") or line == RIGHTS:
            continue
        only = ONLY.match(line)
        if only is None:
            found.append(
                f"line {number}: {line[:40]!r} is not a marker: [[rights]] alone, or [[only CN]] "
                "(country codes, upper case, separated by spaces) as a block's first line"
            )
        elif not at_start:
            found.append(f"line {number}: [[only ...]] starts a block (a blank line before it)")
        else:
            unknown = [c for c in only.group(1).split() if c not in _countries()]
            if unknown:
                found.append(f"line {number}: not a country code: {', '.join(unknown)}")
    return found


def _lines(lines: list[str]) -> list[Block]:
    """One chunk's lines: a heading line stands alone, `- ` lines in a row make one list, the
    other lines in a row one paragraph (a heading may sit right above its paragraph)."""
    out: list[Block] = []
    run: list[str] = []
    kind = ""

    def close() -> None:
        if run:
            out.append(Block(kind, tuple(run) if kind == "list" else (" ".join(run),)))
            run.clear()

    for line in lines:
        if line.startswith("## "):
            close()
            out.append(Block("heading", (line[3:].strip(),)))
            continue
        this = "list" if line.startswith("- ") else "paragraph"
        if this != kind:
            close()
            kind = this
        run.append(line[2:].strip() if this == "list" else line)
    close()
    return out
