"""Days past due and buckets for one account: the reference semantics, pure and exact.

Definitions (the batch pass in `batch.py` computes the same, set-based; a property test holds them equal):

- The state "as of day D" is the state at the end of business day D: payments whose value date is on
  or before D count.
- A bill is unpaid on D when its allocations with value date <= D are less than its amount due.
- A bill's days past due on D are the days in (due_date, D] that are not inside a delinquency pause.
  Within the product's grace days a bill is not yet past due (DPD 0); once grace has run out, DPD
  counts from the contractual due date, as regulators and bureaus count it.
- The account's DPD is the DPD of its oldest unpaid bill; its bucket comes from the scheme's bounds.
- A pause [start, end] (end open: still running) freezes the count: paused days never count.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class BucketScheme:
    """Lower DPD bounds of the buckets after M0; `(1, 31, 61, 91)` gives M0, M1, M2, M3, M3+."""

    bounds: tuple[int, ...] = (1, 31, 61, 91)

    def __post_init__(self) -> None:
        if not self.bounds or self.bounds[0] < 1 or list(self.bounds) != sorted(set(self.bounds)):
            raise ValueError(
                f"bucket bounds must be increasing and start at 1 or more: {self.bounds}"
            )

    @property
    def labels(self) -> tuple[str, ...]:
        n = len(self.bounds)
        return ("M0", *(f"M{i}" for i in range(1, n)), f"M{n - 1}+")

    def bucket_of(self, dpd: int) -> str:
        return self.labels[bisect_right(self.bounds, dpd)]

    def rank(self, bucket: str) -> int:
        return self.labels.index(bucket)


@dataclass(frozen=True)
class AgingRules:
    grace_days: int = 0
    scheme: BucketScheme = BucketScheme()


@dataclass(frozen=True)
class BillAmount:
    bill_id: int
    due_date: dt.date
    amount_due: int


@dataclass(frozen=True)
class PaidLine:
    bill_id: int
    value_date: dt.date
    amount: int


@dataclass(frozen=True)
class Pause:
    start: dt.date
    end: dt.date | None


@dataclass(frozen=True)
class DelinquencyState:
    as_of: dt.date
    dpd: int
    bucket: str
    oldest_unpaid_due_date: dt.date | None
    overdue: int
    outstanding: int


@dataclass(frozen=True)
class BucketChange:
    effective_date: dt.date
    from_bucket: str | None
    to_bucket: str
    dpd: int


def merge_pauses(pauses: Iterable[Pause]) -> list[tuple[dt.date, dt.date]]:
    """Pauses as disjoint closed ranges, open ends closed at date.max."""
    ranges = sorted(
        (p.start, p.end or dt.date.max) for p in pauses if p.end is None or p.end >= p.start
    )
    merged: list[tuple[dt.date, dt.date]] = []
    for start, end in ranges:
        if merged and start <= _next(merged[-1][1]):
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _next(day: dt.date) -> dt.date:
    return day if day == dt.date.max else day + ONE_DAY


def paused_days(after: dt.date, through: dt.date, pauses: Sequence[tuple[dt.date, dt.date]]) -> int:
    """Days x with after < x <= through inside a pause."""
    total = 0
    for start, end in pauses:
        lo = max(start, after + ONE_DAY)
        hi = min(end, through)
        if hi >= lo:
            total += (hi - lo).days + 1
    return total


def bill_dpd(
    due_date: dt.date, day: dt.date, pauses: Sequence[tuple[dt.date, dt.date]], grace: int
) -> int:
    if day <= due_date:
        return 0
    dpd = (day - due_date).days - paused_days(due_date, day, pauses)
    return dpd if dpd > grace else 0


class AccountAging:
    """One account's bills, payments and pauses, ready to answer "what was the state on day D"."""

    def __init__(
        self,
        bills: Sequence[BillAmount],
        paid: Iterable[PaidLine],
        pauses: Iterable[Pause],
        rules: AgingRules,
    ) -> None:
        self.bills = sorted(bills, key=lambda b: (b.due_date, b.bill_id))
        self.rules = rules
        self.pauses = merge_pauses(pauses)
        lines: dict[int, list[tuple[dt.date, int]]] = {}
        for line in paid:
            lines.setdefault(line.bill_id, []).append((line.value_date, line.amount))
        self._paid = {k: sorted(v) for k, v in lines.items()}
        self.paid_off: dict[int, dt.date | None] = {
            b.bill_id: self._paid_off(b) for b in self.bills
        }

    def _paid_off(self, bill: BillAmount) -> dt.date | None:
        running = 0
        if bill.amount_due <= 0:
            return dt.date.min
        for value_date, amount in self._paid.get(bill.bill_id, []):
            running += amount
            if running >= bill.amount_due:
                return value_date
        return None

    def paid_as_of(self, bill_id: int, day: dt.date) -> int:
        return sum(a for d, a in self._paid.get(bill_id, []) if d <= day)

    def state(self, day: dt.date) -> DelinquencyState:
        oldest: BillAmount | None = None
        overdue = outstanding = 0
        for bill in self.bills:
            remaining = bill.amount_due - self.paid_as_of(bill.bill_id, day)
            if remaining <= 0:
                continue
            outstanding += remaining
            if bill.due_date < day:
                overdue += remaining
                if oldest is None:
                    oldest = bill
        dpd = (
            0
            if oldest is None
            else bill_dpd(oldest.due_date, day, self.pauses, self.rules.grace_days)
        )
        return DelinquencyState(
            as_of=day,
            dpd=dpd,
            bucket=self.rules.scheme.bucket_of(dpd),
            oldest_unpaid_due_date=oldest.due_date if oldest else None,
            overdue=overdue,
            outstanding=outstanding,
        )

    def dpd(self, day: dt.date) -> int:
        for bill in self.bills:
            if bill.due_date >= day:
                break
            off = self.paid_off[bill.bill_id]
            if off is None or off > day:
                return bill_dpd(bill.due_date, day, self.pauses, self.rules.grace_days)
        return 0

    def history(
        self, start: dt.date, end: dt.date, *, bucket_before: str | None
    ) -> list[BucketChange]:
        """Bucket changes on each day of [start, end], given the bucket held the day before `start`."""
        changes: list[BucketChange] = []
        current = bucket_before
        day = start
        scheme = self.rules.scheme
        while day <= end:
            dpd = self.dpd(day)
            bucket = scheme.bucket_of(dpd)
            if bucket != current:
                changes.append(BucketChange(day, current, bucket, dpd))
                current = bucket
            day += ONE_DAY
        return changes
