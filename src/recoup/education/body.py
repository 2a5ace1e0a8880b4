"""An article's body as the portal shows it: a small, closed format instead of HTML, so an
approved article can carry no markup, script or link that a reviewer did not see as text.

Blocks are separated by blank lines: a line starting `## ` is a heading, lines starting `- `
make a list, `[[rights]]` alone stands for the debtor's rights from the rule packs (`rights.py`),
other lines are a paragraph. A pure engine."""

from __future__ import annotations

from dataclasses import dataclass

RIGHTS = "[[rights]]"


@dataclass(frozen=True)
class Block:
    kind: str  # heading, paragraph, list, rights
    lines: tuple[str, ...]


def blocks(body: str) -> tuple[Block, ...]:
    out: list[Block] = []
    for chunk in body.replace("\r\n", "\n").split("\n\n"):
        lines = [line.strip() for line in chunk.strip().split("\n") if line.strip()]
        if lines == [RIGHTS]:
            out.append(Block("rights", ()))
            continue
        out += _lines(lines)
    return tuple(out)


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
