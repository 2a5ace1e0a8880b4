"""Writes src/recoup/assistant/hanzi.json: the characters written one way in traditional Chinese
and another in simplified, one character each, from OpenCC's tables (Apache-2.0).

The assistant folds traditional characters to simplified before its model reads a message (so a
phrasing learned in one script is known in the other) and counts them to tell zh-Hant from zh-Hans.
Shipping the table keeps OpenCC out of the runtime dependencies. Run it again only to refresh the
table: `pip install --target /tmp/occ opencc && PYTHONPATH=/tmp/occ python scripts/assistant_hanzi.py`.
"""

from __future__ import annotations

import json
from pathlib import Path

import opencc  # type: ignore[import-not-found]

OUT = Path(__file__).resolve().parents[1] / "src" / "recoup" / "assistant" / "hanzi.json"
BLOCKS = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00))


def main() -> None:
    t2s, s2t = opencc.OpenCC("t2s"), opencc.OpenCC("s2t")
    traditional, simplified, simplified_only = [], [], []
    for low, high in BLOCKS:
        for code in range(low, high):
            ch = chr(code)
            folded = t2s.convert(ch)
            if folded != ch and len(folded) == 1:
                traditional.append(ch)
                simplified.append(folded)
            if s2t.convert(ch) != ch and t2s.convert(ch) == ch:
                simplified_only.append(ch)
    table = {
        "source": "OpenCC t2s and s2t, one character to one (scripts/assistant_hanzi.py)",
        "traditional": "".join(traditional),
        "simplified": "".join(simplified),
        "simplified_only": "".join(simplified_only),
    }
    OUT.write_text(json.dumps(table, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(
        f"{len(traditional)} traditional characters, {len(simplified_only)} simplified-only -> {OUT}"
    )


if __name__ == "__main__":
    main()
