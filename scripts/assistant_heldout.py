"""Writing a held-out set of the assistant's messages (`assistant_unseen2.py`, `_unseen3.py`,
`_unseen4.py` each give their lines): every line once, none already in a set the model or an
earlier held-out set holds (a bare keyword is bound to be there: left out, so that every message
is one the model never saw), each at a moment of its own drawn from its text, as JSON Lines.
A line is a text, or (since unseen5) a promise with its entities: `(text, amount_minor, days)`,
the date being `days` after the message's own day."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "recoup" / "assistant" / "data"


def write_set(
    tag: str,
    lines: Mapping[str, Mapping[str, Sequence[str | tuple[str, int, int]]]],
    *,
    zones: dict[str, int],
    known: Sequence[Path],
    base: datetime,
) -> None:
    """`lines` (language -> intent -> texts) written to `<DATA>/unseen<tag>.jsonl` as split
    `unseen<tag>`, ids `u<tag>-<language>-<intent>-<n>`; `base`: a wall time in each language's
    zone (`zones`, hours from UTC), the messages spread over the 40 days after it."""
    out = DATA / f"unseen{tag}.jsonl"
    seen_before = {
        json.loads(line)["text"]
        for path in known
        for line in path.read_text(encoding="utf-8").splitlines()
    }
    rows = []
    seen: set[str] = set()
    dropped: list[str] = []
    for language, intents in lines.items():
        zone = timezone(timedelta(hours=zones[language]))
        for intent, texts in intents.items():
            for n, line in enumerate(texts, start=1):
                text, amount, days = (line, None, None) if isinstance(line, str) else line
                if text in seen:
                    raise SystemExit(f"{text!r} is here twice")
                seen.add(text)
                if text in seen_before:
                    dropped.append(text)
                    continue
                digest = int(hashlib.sha256(f"u{tag}:{text}".encode()).hexdigest()[:8], 16)
                at = (base + timedelta(minutes=digest % (60 * 24 * 40))).replace(tzinfo=zone)
                rows.append(
                    {
                        "id": f"u{tag}-{language}-{intent}-{n:03d}",
                        "text": text,
                        "at": at.isoformat(),
                        "language": language,
                        "intent": intent,
                        "amount_minor": amount,
                        "date": None
                        if days is None
                        else (at + timedelta(days=days)).date().isoformat(),
                        "split": f"unseen{tag}",
                    }
                )
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    counts: dict[str, int] = {}
    for r in rows:
        key = r["intent"] if r["intent"] in ("stop", "vulnerable") else "neither"
        counts[key] = counts.get(key, 0) + 1
    print(f"{len(rows)} messages written to {out.relative_to(ROOT)}: {counts}")
    names = ", ".join(p.name for p in known)
    print(f"left out, already in {names}: {dropped}")
