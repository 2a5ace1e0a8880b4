"""Traditional and simplified Chinese characters: fold one into the other, count each.

Pure. The table (`hanzi.json`, written by `scripts/assistant_hanzi.py` from OpenCC's one-to-one
character mappings) is read once per process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class Table:
    fold: dict[int, int]  # traditional code point -> simplified
    traditional: frozenset[str]
    simplified_only: frozenset[str]


@lru_cache(maxsize=1)
def table() -> Table:
    raw = json.loads(
        resources.files("recoup.assistant").joinpath("hanzi.json").read_text(encoding="utf-8")
    )
    traditional, simplified = raw["traditional"], raw["simplified"]
    return Table(
        fold=str.maketrans(traditional, simplified),
        traditional=frozenset(traditional),
        simplified_only=frozenset(raw["simplified_only"]),
    )


def to_simplified(text: str) -> str:
    """`text` with every traditional character written in its simplified form ("還款" is "还款")."""
    return text.translate(table().fold)


def script_counts(text: str) -> tuple[int, int]:
    """How many characters of `text` are traditional-only and how many simplified-only."""
    t = table()
    return (
        sum(1 for ch in text if ch in t.traditional),
        sum(1 for ch in text if ch in t.simplified_only),
    )
