"""The facts the guard decides on, already normalised, and the decision it returns.

`Facts` is one planned contact: flat fields that the batch carries as columns of a Polars frame and
the single-contact path builds from a scenario (`scenario.py`). Counters over the contact history
arrive as a `Tally` per cap rule (`tally.py` computes them from the history).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from recoup.compliance.codes import TEMPORAL, Code


@dataclass(frozen=True)
class ConsentWindow:
    """The debtor agreed to contact inside this local window [start, end) (minutes after midnight)."""

    start: int
    end: int
    valid_from: dt.datetime
    valid_until: dt.datetime | None = None


@dataclass(frozen=True)
class Inconvenient:
    """A time the debtor said is inconvenient: local [start, end) on `days` (0 = Monday; empty = all)."""

    days: frozenset[int]
    start: int
    end: int


@dataclass(frozen=True)
class Facts:
    at: dt.datetime
    channel: str
    jurisdiction: str
    zones: tuple[str, ...]
    party: str = "debtor"
    collector: str = "creditor"
    product: str = "bnpl"
    dpd: int = 0
    flags: frozenset[str] = frozenset()
    handover_notice_sent: bool = True
    time_barred: bool = False
    to_type: str = "mobile"
    opted_out: bool = False
    electronic_consent: bool = False
    recent_inbound: bool = False
    wrong_party: bool = False
    debtor_unreachable: bool = False
    third_party_refused: bool = False
    evidence: bool = False
    designated: bool = False
    third_party_contacts: int = 0
    call_back_until: dt.datetime | None = None
    consent_windows: tuple[ConsentWindow, ...] = ()
    inconvenient: tuple[Inconvenient, ...] = ()
    content_text: str | None = None
    content_language: str | None = None
    creditor_name: str = ""


@dataclass(frozen=True)
class Tally:
    """Counted events in a cap's window now, and when enough of them age out to fall below the cap."""

    count: int
    release_at: dt.datetime | None = None


@dataclass(frozen=True)
class Reason:
    code: Code
    rule: str
    pack: str
    citation: str
    confidence: str
    message: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    at: dt.datetime
    reasons: tuple[Reason, ...]
    next_allowed_at: dt.datetime | None
    packs: tuple[str, ...]
    zones: tuple[str, ...]

    @property
    def allowed(self) -> bool:
        return not self.reasons

    @property
    def codes(self) -> list[str]:
        return sorted({r.code.value for r in self.reasons})

    @property
    def curable(self) -> bool:
        return all(r.code in TEMPORAL for r in self.reasons)

    def to_json(self) -> dict[str, Any]:
        return {
            "decision": "allow" if self.allowed else "block",
            "at": self.at.isoformat(),
            "next_allowed_at": self.next_allowed_at.isoformat() if self.next_allowed_at else None,
            "reasons": [
                {**asdict(r), "code": r.code.value, "detail": _jsonable(r.detail)}
                for r in self.reasons
            ],
            "packs": list(self.packs),
            "zones": list(self.zones),
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value
