"""The payment waterfall: a pure function from bills and payments to allocations.

Payments are replayed in value order (value date, then received instant, then id) over the account's
bill components, ordered by the waterfall:

- ``bill_first`` (the default): oldest bill first; within a bill, components in the configured order
  (default fees, then interest, then principal);
- ``component_first``: each component across all bills, oldest bill first, before the next component.

Replaying from scratch is what makes backdated payments and reversals exact: the allocation after a
change is the allocation a system that had known all along would hold. What no bill can absorb is a
credit on the account. Invariants (property-tested): allocations of a payment sum to at most its amount,
no component receives more than it owes, and allocated plus credit equals the sum of live payments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import polars as pl

from recoup.kit.errors import ValidationFailed

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
COMPONENTS = ("fees", "interest", "principal")


class WaterfallOrder(StrEnum):
    bill_first = "bill_first"
    component_first = "component_first"


@dataclass(frozen=True)
class Waterfall:
    order: WaterfallOrder = WaterfallOrder.bill_first
    components: tuple[str, ...] = COMPONENTS

    def __post_init__(self) -> None:
        if sorted(self.components) != sorted(COMPONENTS):
            raise ValidationFailed(
                f"waterfall components must be a permutation of {', '.join(COMPONENTS)}; "
                f"got {', '.join(self.components)}"
            )

    @classmethod
    def from_config(cls, config: dict[str, Any] | None) -> Waterfall:
        config = config or {}
        try:
            order = WaterfallOrder(config.get("order", WaterfallOrder.bill_first))
        except ValueError as exc:
            raise ValidationFailed(
                f"waterfall order must be one of {', '.join(WaterfallOrder)}"
            ) from exc
        return cls(order=order, components=tuple(config.get("components", COMPONENTS)))

    def to_config(self) -> dict[str, Any]:
        return {"order": str(self.order), "components": list(self.components)}


@dataclass(frozen=True)
class BillDue:
    bill_id: int
    due_date: dt.date
    fees: int
    interest: int
    principal: int

    def component(self, name: str) -> int:
        value: int = getattr(self, name)
        return value


@dataclass(frozen=True)
class PaymentIn:
    payment_id: int
    value_date: dt.date
    amount: int
    received_at: dt.datetime | None = None


@dataclass(frozen=True)
class AllocationLine:
    payment_id: int
    bill_id: int
    component: str
    amount: int
    value_date: dt.date


@dataclass
class AllocationResult:
    lines: list[AllocationLine] = field(default_factory=list)
    credit: int = 0

    def paid_by_bill(self) -> dict[int, int]:
        paid: dict[int, int] = {}
        for line in self.lines:
            paid[line.bill_id] = paid.get(line.bill_id, 0) + line.amount
        return paid


def slots(bills: Iterable[BillDue], waterfall: Waterfall) -> list[tuple[int, str, int]]:
    """The (bill, component, amount) slots in the order payments fill them."""
    ordered = sorted(bills, key=lambda b: (b.due_date, b.bill_id))
    if waterfall.order is WaterfallOrder.bill_first:
        pairs = [(b, c) for b in ordered for c in waterfall.components]
    else:
        pairs = [(b, c) for c in waterfall.components for b in ordered]
    return [(b.bill_id, c, b.component(c)) for b, c in pairs if b.component(c) > 0]


def payment_order(payment: PaymentIn) -> tuple[dt.date, dt.datetime, int]:
    return (payment.value_date, payment.received_at or EPOCH, payment.payment_id)


def allocate(
    bills: Sequence[BillDue], payments: Sequence[PaymentIn], waterfall: Waterfall
) -> AllocationResult:
    result = AllocationResult()
    queue = slots(bills, waterfall)
    index = 0
    left_in_slot = queue[0][2] if queue else 0
    for payment in sorted(payments, key=payment_order):
        if payment.amount <= 0:
            raise ValidationFailed(f"payment {payment.payment_id} amount must be positive")
        left = payment.amount
        while left > 0 and index < len(queue):
            take = min(left, left_in_slot)
            bill_id, component, _ = queue[index]
            result.lines.append(
                AllocationLine(payment.payment_id, bill_id, component, take, payment.value_date)
            )
            left -= take
            left_in_slot -= take
            if left_in_slot == 0:
                index += 1
                left_in_slot = queue[index][2] if index < len(queue) else 0
        result.credit += left
    return result


def summarise_frames(lines: pl.DataFrame, bills: pl.DataFrame) -> pl.DataFrame:
    """Per bill: `paid` (all allocations) and `paid_off_date` (the value date on which the running
    total first covered the amount due; null while unpaid). `bills` needs bill_id and amount_due."""
    running = (
        lines.sort("bill_id", "value_date")
        .group_by("bill_id", "value_date", maintain_order=True)
        .agg(pl.col("amount").sum())
        .with_columns(total=pl.col("amount").cum_sum().over("bill_id"))
    )
    return (
        bills.select("bill_id", "amount_due")
        .join(running, on="bill_id", how="left")
        .group_by("bill_id")
        .agg(
            paid=pl.col("amount").sum().fill_null(0),
            paid_off_date=pl.col("value_date")
            .filter(pl.col("total") >= pl.col("amount_due"))
            .min(),
        )
    )


def summarise(
    result: AllocationResult, bills: Sequence[BillDue]
) -> dict[int, tuple[int, dt.date | None]]:
    """`summarise_frames` for one account's `allocate` result: bill -> (paid, paid_off_date)."""
    summary: dict[int, tuple[int, dt.date | None]] = {}
    due = {b.bill_id: b.fees + b.interest + b.principal for b in bills}
    for line in sorted(result.lines, key=lambda x: x.value_date):
        paid, off = summary.get(line.bill_id, (0, None))
        paid += line.amount
        if off is None and paid >= due[line.bill_id]:
            off = line.value_date
        summary[line.bill_id] = (paid, off)
    return {b: summary.get(b, (0, None)) for b in due}


def allocate_frames(
    bills: pl.DataFrame, payments: pl.DataFrame, waterfalls: dict[str, Waterfall]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`allocate` for many accounts at once, set-based; a property test holds the two equal.

    bills:    account_id, product_code, bill_id, due_date, fees, interest, principal
    payments: account_id, payment_id, value_date, received_at, amount

    Each account's slots (in the waterfall's order) and payments (in value order) are laid end to
    end on one axis of cumulative money, and the accounts one after another on it, each over what
    it allocates (the lesser of its dues and its payments). The starts of the slots and of the
    payments cut the axis into pieces; each piece lies in exactly one slot and one payment (found
    by binary search), and is one allocation line: a payment meets a slot at most once, as
    `allocate` has it. The work is a few sorts, linear in slots plus payments.
    Returns (lines: account_id, payment_id, bill_id, component, value_date, amount, ordered by
             account, payment, bill and component; credits: account_id, credit).
    """
    rank_exprs = []
    for code, waterfall in waterfalls.items():
        for position, component in enumerate(waterfall.components):
            rank_exprs.append(
                ((pl.col("product_code") == code) & (pl.col("component") == component), position)
            )
    rank: pl.Expr = pl.lit(0)
    for condition, value in reversed(rank_exprs):
        rank = pl.when(condition).then(value).otherwise(rank)
    component_first = [
        c for c, w in waterfalls.items() if w.order is WaterfallOrder.component_first
    ]
    slots = (
        bills.unpivot(
            index=["account_id", "product_code", "bill_id", "due_date"],
            on=list(COMPONENTS),
            variable_name="component",
            value_name="amount",
        )
        .filter(pl.col("amount") > 0)
        .with_columns(rank=rank, by_component=pl.col("product_code").is_in(component_first))
        .with_columns(
            k1=pl.when(pl.col("by_component")).then(pl.col("rank")).otherwise(0),
            k2=pl.col("due_date"),
            k3=pl.col("bill_id"),
            k4=pl.col("rank"),
        )
        .sort("account_id", "k1", "k2", "k3", "k4")
        .select("account_id", "bill_id", "component", "amount")
    )
    pays = payments.sort("account_id", "value_date", "received_at", "payment_id").select(
        "account_id", "payment_id", "value_date", "amount"
    )
    due_total = slots.group_by("account_id").agg(due=pl.col("amount").sum())
    paid_total = pays.group_by("account_id").agg(paid=pl.col("amount").sum())
    credits = paid_total.join(due_total, on="account_id", how="left").select(
        "account_id", credit=(pl.col("paid") - pl.col("due").fill_null(0)).clip(lower_bound=0)
    )
    # Each account's stretch of the axis: `base` (where it begins) and `limit` (what it allocates).
    spans = (
        due_total.join(paid_total, on="account_id")
        .select("account_id", limit=pl.min_horizontal("due", "paid"))
        .sort("account_id")
        .with_columns(base=pl.col("limit").cum_sum() - pl.col("limit"))
    )
    slot_start = _on_the_axis(slots, spans)
    pay_start = _on_the_axis(pays, spans)
    kept_slots = slots.filter(slot_start.is_not_null())
    kept_pays = pays.filter(pay_start.is_not_null())
    slot_at = slot_start.drop_nulls().to_numpy()
    pay_at = pay_start.drop_nulls().to_numpy()
    end = int(spans["limit"].sum()) if spans.height else 0
    cuts = np.unique(np.concatenate([slot_at, pay_at, np.array([end], dtype=np.int64)]))
    piece_start = cuts[:-1]
    in_slot = np.searchsorted(slot_at, piece_start, side="right") - 1
    in_pay = np.searchsorted(pay_at, piece_start, side="right") - 1
    lines = (
        pl.DataFrame(
            {
                "account_id": kept_slots["account_id"].gather(in_slot),
                "payment_id": kept_pays["payment_id"].gather(in_pay),
                "bill_id": kept_slots["bill_id"].gather(in_slot),
                "component": kept_slots["component"].gather(in_slot),
                "value_date": kept_pays["value_date"].gather(in_pay),
                "amount": pl.Series(np.diff(cuts), dtype=pl.Int64),
            }
        )
        if len(piece_start)
        else pl.DataFrame(
            schema={
                "account_id": pl.Int64,
                "payment_id": pl.Int64,
                "bill_id": pl.Int64,
                "component": pl.String,
                "value_date": pl.Date,
                "amount": pl.Int64,
            }
        )
    ).sort("account_id", "payment_id", "bill_id", "component")
    return lines, credits


def _on_the_axis(rows: pl.DataFrame, spans: pl.DataFrame) -> pl.Series:
    """Where each row (`account_id`, `amount`, sorted by account and then in the order money
    fills them) starts on the accounts' common axis; null for a row past what its account
    allocates, or of an account that allocates nothing."""
    amount = rows["amount"].to_numpy()
    account = rows["account_id"].to_numpy()
    before = np.cumsum(amount) - amount  # money ahead of the row, over every account
    first = np.ones(len(account), dtype=bool)
    first[1:] = account[1:] != account[:-1]
    run = np.maximum.accumulate(np.where(first, np.arange(len(account)), 0))
    local = before - before[run] if len(account) else before  # ahead of it in its own account
    placed = rows.select("account_id").with_columns(local=pl.Series(local, dtype=pl.Int64))
    placed = placed.join(spans, on="account_id", how="left", maintain_order="left")
    return placed.select(
        pl.when(pl.col("local") < pl.col("limit")).then(pl.col("base") + pl.col("local"))
    ).to_series()
