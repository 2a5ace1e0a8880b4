"""Arrangements, pure: what a policy's offer allows, the schedules it produces, and whether the money
that arrived keeps or breaks an arrangement. No database; the flows feed it plain values.

Money counts towards an arrangement by value date from its start: a payment dated day D counts for
an instalment due on day T when D <= T + grace. Instalments are cumulative: the first k instalments
are met when everything paid since the start covers their sum, so paying early or paying more always
helps and never counts twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ONE_DAY = dt.timedelta(days=1)
BPS = 10_000

# What a policy's offer of each kind may bound, with the default when it says nothing.
OFFER_BOUNDS: dict[str, dict[str, Any]] = {
    "promise": {"max_days": 14, "grace_days": 2, "min_share_bps": 0},
    "plan": {
        "min_instalments": 2,
        "max_instalments": 6,
        "min_instalment_minor": 0,
        "every_days": 30,
        "max_tenor_days": 0,  # 0: no limit beyond the instalments
        "fee_bps": 0,
        "grace_days": 3,
        "income_share_bps": 3000,  # instalments may take at most this share of declared income
        "reage": "pause",  # pause: DPD frozen while kept; reschedule: the balance re-aged at once
    },
    "extension": {"min_days": 7, "max_days": 14, "fee_bps": 0, "grace_days": 1},
    "settlement": {
        "min_share_bps": 6000,  # the least share of the balance a settlement may ask
        "approval_below_bps": 8000,  # below this share a supervisor approves first
        "pay_within_days": 7,
        "grace_days": 0,
    },
}
REAGE_MODES = ("pause", "reschedule")


def bounds_error(kind: str, bounds: Mapping[str, Any]) -> str | None:
    """Why an offer's bounds are wrong, or None. The policy loader reports it at the line."""
    known = OFFER_BOUNDS[kind]
    unknown = sorted(set(bounds) - set(known))
    if unknown:
        return f"a {kind} offer has no {', '.join(unknown)}; it takes {', '.join(sorted(known))}"
    for key, value in bounds.items():
        if key == "reage":
            if value not in REAGE_MODES:
                return f"reage must be one of {', '.join(REAGE_MODES)}"
        elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return f"{key} must be a whole number of 0 or more"
    return None


def with_defaults(kind: str, bounds: Mapping[str, Any]) -> dict[str, Any]:
    return {**OFFER_BOUNDS[kind], **bounds}


def share_of(amount: int, bps: int) -> int:
    """`amount` × bps / 10,000 in minor units, rounded half up (fees are never a fraction of a fen)."""
    return (amount * bps + BPS // 2) // BPS


class TermsRefused(ValueError):
    """The terms asked for are outside the offer; the message says which bound and what fits.
    `reason` and `values` say the same as data, for a page to word in its own language."""

    def __init__(self, message: str, *, reason: str, **values: int) -> None:
        super().__init__(message)
        self.reason = reason
        self.values = values


@dataclass(frozen=True)
class Instalment:
    seq: int
    due_date: dt.date
    amount_minor: int


def split(total: int, n: int) -> list[int]:
    """`total` in `n` amounts that differ by at most one minor unit, the larger ones first."""
    base, extra = divmod(total, n)
    return [base + (1 if i < extra else 0) for i in range(n)]


def plan_quote(
    bounds: Mapping[str, Any],
    *,
    balance: int,
    instalments: int,
    start: dt.date,
    monthly_budget: int | None = None,
    monthly_income: int | None = None,
) -> tuple[int, list[Instalment]]:
    """(fee, schedule) for a plan over `balance`, or TermsRefused naming the bound it breaks."""
    b = with_defaults("plan", bounds)
    lo, hi, every = b["min_instalments"], b["max_instalments"], max(1, b["every_days"])
    if balance <= 0:
        raise TermsRefused("nothing is owed, so there is nothing to spread", reason="nothing_owed")
    if not lo <= instalments <= hi:
        raise TermsRefused(
            f"a plan has between {lo} and {hi} instalments", reason="instalments", low=lo, high=hi
        )
    if b["max_tenor_days"] and instalments * every > b["max_tenor_days"]:
        most = b["max_tenor_days"] // every
        raise TermsRefused(
            f"a plan lasts at most {b['max_tenor_days']} days: {most} instalments",
            reason="tenor",
            days=b["max_tenor_days"],
            most=most,
        )
    fee = share_of(balance, b["fee_bps"])
    amounts = split(balance + fee, instalments)
    if instalments > 1 and min(amounts) < b["min_instalment_minor"]:
        raise TermsRefused(
            "instalments would be below the smallest instalment allowed", reason="below_smallest"
        )
    if monthly_budget is None and monthly_income is None:
        raise TermsRefused(
            "tell us what you can afford each month, or your monthly income", reason="need_budget"
        )
    monthly = (max(amounts) * 30 + every - 1) // every  # what the largest instalment costs a month
    afford = [
        limit
        for limit in (
            monthly_budget,
            share_of(monthly_income, b["income_share_bps"]) if monthly_income is not None else None,
        )
        if limit is not None
    ]
    if monthly > min(afford):
        raise TermsRefused(
            "the instalments are more than you said you can afford each month",
            reason="unaffordable",
        )
    schedule = [
        Instalment(i + 1, start + dt.timedelta(days=every * (i + 1)), amount)
        for i, amount in enumerate(amounts)
    ]
    return fee, schedule


def plan_fits(
    bounds: Mapping[str, Any],
    *,
    balance: int,
    start: dt.date,
    monthly_budget: int | None,
    monthly_income: int | None,
) -> int | None:
    """The fewest instalments the offer allows that the debtor can afford, or None."""
    b = with_defaults("plan", bounds)
    for n in range(b["min_instalments"], b["max_instalments"] + 1):
        try:
            plan_quote(
                bounds,
                balance=balance,
                instalments=n,
                start=start,
                monthly_budget=monthly_budget,
                monthly_income=monthly_income,
            )
        except TermsRefused:
            continue
        return n
    return None


def promise_terms(
    bounds: Mapping[str, Any], *, amount: int, on: dt.date, start: dt.date, overdue: int, owed: int
) -> Instalment:
    b = with_defaults("promise", bounds)
    if not start <= on <= start + dt.timedelta(days=b["max_days"]):
        raise TermsRefused(
            f"choose a date within {b['max_days']} days", reason="promise_date", days=b["max_days"]
        )
    least = max(1, share_of(overdue, b["min_share_bps"]))
    if not least <= amount <= owed:
        raise TermsRefused(
            "the amount must be at least the part of the overdue amount asked "
            "and at most what you owe",
            reason="promise_amount",
        )
    return Instalment(1, on, amount)


def extension_terms(
    bounds: Mapping[str, Any], *, days: int, start: dt.date, overdue_principal: int
) -> tuple[int, dt.date, Instalment]:
    """(fee, new due date, the fee's one instalment)."""
    b = with_defaults("extension", bounds)
    if not b["min_days"] <= days <= b["max_days"]:
        raise TermsRefused(
            f"an extension is between {b['min_days']} and {b['max_days']} days",
            reason="extension_days",
            low=b["min_days"],
            high=b["max_days"],
        )
    fee = share_of(overdue_principal, b["fee_bps"])
    return fee, start + dt.timedelta(days=days), Instalment(1, start, fee)


def settlement_terms(
    bounds: Mapping[str, Any], *, amount: int, balance: int, start: dt.date
) -> tuple[bool, Instalment]:
    """(needs a supervisor's approval, the one instalment)."""
    b = with_defaults("settlement", bounds)
    least = share_of(balance, b["min_share_bps"])
    if not least <= amount < balance:
        raise TermsRefused(
            "a settlement is less than the balance and at least the share allowed",
            reason="settlement_amount",
        )
    needs_approval = amount * BPS < balance * b["approval_below_bps"]
    due = start + dt.timedelta(days=b["pay_within_days"])
    return needs_approval, Instalment(1, due, amount)


@dataclass(frozen=True)
class Assessment:
    status: str  # active, kept, broken
    paid: int  # counted since the start, up to the day assessed
    on: dt.date | None = None  # kept: the value date the last money came; broken: the last good day
    missed: int | None = None  # the instalment that broke it


def assess(
    instalments: Sequence[Instalment],
    *,
    start: dt.date,
    grace_days: int,
    payments: Iterable[tuple[dt.date, int]],
    today: dt.date,
) -> Assessment:
    """Kept once the money since `start` covers every instalment on time; broken the day after an
    instalment's grace runs out uncovered; active otherwise. Days after `today` are not known yet."""
    paid = sorted((d, a) for d, a in payments if start <= d <= today)
    total = sum(a for _, a in paid)
    need = 0
    grace = dt.timedelta(days=grace_days)
    for inst in sorted(instalments, key=lambda i: i.seq):
        need += inst.amount_minor
        deadline = inst.due_date + grace
        by_deadline = sum(a for d, a in paid if d <= deadline)
        if by_deadline >= need:
            continue
        if today > deadline:
            return Assessment("broken", total, deadline, inst.seq)
        return Assessment("active", total)
    running = 0
    for day, amount in paid:
        running += amount
        if running >= need:
            return Assessment("kept", total, day)
    return Assessment("kept", total, start)  # nothing was asked (a zero fee)


def fill_components(
    remainders: Sequence[Mapping[str, int]], amounts: Sequence[int], order: Sequence[str]
) -> list[dict[str, int]]:
    """Lay the moved components (per old bill, as {component: amount}) into new bills of the given
    amounts, in the waterfall's `order`: a reschedule keeps every component's total exactly. What
    the new amounts hold beyond what was moved is the arrangement's fee (key "fee")."""
    pool = {c: sum(r.get(c, 0) for r in remainders) for c in order}
    if sum(pool.values()) > sum(amounts):
        raise ValueError("the new bills are smaller than what is moved")
    out: list[dict[str, int]] = []
    for amount in amounts:
        bill: dict[str, int] = {}
        left = amount
        for c in order:
            take = min(left, pool[c])
            if take:
                bill[c] = take
                pool[c] -= take
                left -= take
        if left:  # more than was moved: the arrangement's fee
            bill["fee"] = left
        out.append(bill)
    return out
