"""An article's body as the portal shows it: a small, closed format instead of HTML, so an
approved article can carry no markup, script or link that a reviewer did not see as text.

Blocks are separated by blank lines: `## ` starts a heading, lines starting `- ` make a list,
`[[rights]]` alone stands for the debtor's rights from the rule packs (`rights.py`), anything
else is a paragraph. A pure engine."""

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
        lines = tuple(line.strip() for line in chunk.strip().split("\n") if line.strip())
        if not lines:
            continue
        if lines == (RIGHTS,):
            out.append(Block("rights", ()))
        elif len(lines) == 1 and lines[0].startswith("## "):
            out.append(Block("heading", (lines[0][3:].strip(),)))
        elif all(line.startswith("- ") for line in lines):
            out.append(Block("list", tuple(line[2:].strip() for line in lines)))
        else:
            out.append(Block("paragraph", (" ".join(lines),)))
    return tuple(out)
