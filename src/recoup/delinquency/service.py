"""Delinquency: days past due, buckets and their history, for one account or the whole portfolio.

Invariants:
- `account_delinquency` holds each account's state as of the date it was last computed; the portfolio
  pass rewrites only rows whose state changed, so an unchanged row is also valid through the last run.
- `delinquency_events` is the bucket history: one row per bucket change, dated the day the account
  entered the new bucket. It is a function of the ledger: after a backdated payment, reversal, bill or
  pause, the account's history from the affected date is deleted and recomputed with the exact engine,
  so it equals the history a system that had known all along would have written.
- The first observation of an account starts its history; M0 is implied before it.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from recoup.audit import service as audit_service
from recoup.delinquency import batch, repository
from recoup.delinquency.engine import (
    AccountAging,
    AgingRules,
    BillAmount,
    BucketChange,
    BucketScheme,
    DelinquencyState,
    PaidLine,
    Pause,
)
from recoup.delinquency.repository import DelinquencyRepository
from recoup.kit import frames
from recoup.kit.clock import Clock
from recoup.kit.errors import Conflict, NotFound, ValidationFailed
from recoup.kit.logging import get_logger
from recoup.ledger import service as ledger_service
from recoup.ledger.repository import AllocationRepository, BillRepository
from recoup.models import (
    Account,
    AccountDelinquency,
    DelinquencyEvent,
    DelinquencyPause,
    PauseKind,
    Product,
)

ONE_DAY = dt.timedelta(days=1)
Progress = Callable[[str], None]
log = get_logger(__name__)


class RunOutOfOrder(Conflict):
    code = "delinquency_run_out_of_order"
    description = "Delinquency is already computed through a later day"


@dataclass(frozen=True)
class RunSummary:
    as_of: dt.date
    accounts: int
    changed: int
    bucket_changes: int
    by_bucket: dict[str, int]
    # Every account's state as the pass left the table (`STATES_SCHEMA`; `state_date` is the day
    # the stored row was last written): the daily flow hands it to the strategy run, which
    # would otherwise read back the rows just written. Only `run_daily` fills it.
    states: pl.DataFrame | None = field(default=None, repr=False, compare=False)
    # The accounts whose bucket changes the pass recorded (`run_daily`): the day's scoring reads
    # them again when it read the rest before the pass (`risk.service.read_ahead`).
    moved: pl.Series | None = field(default=None, repr=False, compare=False)


# The columns of `RunSummary.states`: what `account_delinquency` holds after the pass, per account.
STATES_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "account_id": pl.Int64,
    "state_date": pl.Date,
    "dpd": pl.Int64,
    "bucket": pl.String,
    "overdue_minor": pl.Int64,
    "outstanding_minor": pl.Int64,
}


def rules_for(product: Product, default_bounds: tuple[int, ...] = (1, 31, 61, 91)) -> AgingRules:
    bounds = tuple(product.bucket_bounds) if product.bucket_bounds else default_bounds
    return AgingRules(grace_days=product.grace_days, scheme=BucketScheme(bounds))


def business_today(product: Product, clock: Clock) -> dt.date:
    return clock.now().astimezone(zoneinfo.ZoneInfo(product.timezone)).date()


def aging_for(session: Session, account: Account, product: Product) -> AccountAging:
    bills = [
        BillAmount(b.id, b.due_date, b.amount_due_minor)
        for b in BillRepository(session).for_account(account.id)
    ]
    paid = [
        PaidLine(a.bill_id, a.value_date, a.amount_minor)
        for a in AllocationRepository(session).for_account(account.id)
    ]
    pauses = [
        Pause(p.start_date, p.end_date) for p in DelinquencyRepository(session).pauses(account.id)
    ]
    return AccountAging(bills, paid, pauses, rules_for(product))


def recompute_account(
    session: Session, account: Account, *, from_date: dt.date, clock: Clock, cause: str
) -> None:
    """Recompute one account's state and its bucket history from `from_date` on: `recompute_many`
    of that one account (the same from-date rule, the same engine)."""
    recompute_many(session, {account.id: from_date}, clock=clock, cause=cause)


def recompute_many(
    session: Session,
    since: Mapping[int, dt.date],
    *,
    clock: Clock,
    cause: str,
    tracked_only: bool = False,
) -> int:
    """`recompute_account` for many accounts (account → the earliest date a change touched): the
    same states and bucket history, by the same exact engine, with the accounts' bills, allocations,
    pauses and history read together and the results written together (the settle flow's path for
    a file of payments). `tracked_only` leaves accounts the daily pass has not seen yet to it (a
    portfolio's first load). How many accounts were recomputed."""
    ids = sorted(since)
    if not ids:
        return 0
    session.flush()
    stored = repository.stored_as_of(session, ids)
    if tracked_only:
        ids = [a for a in ids if a in stored]
    if not ids:
        return 0
    repo = DelinquencyRepository(session)
    products = {p.code: p for p in repo.products()}
    last_run = repo.last_run_date() or dt.date.min
    bills: dict[int, list[BillAmount]] = {}
    for a, bill, due, amount in repository.bills_of(session, ids):
        bills.setdefault(a, []).append(BillAmount(bill, due, amount))
    paid: dict[int, list[PaidLine]] = {}
    for a, bill, day, amount in repository.paid_lines_of(session, ids):
        paid.setdefault(a, []).append(PaidLine(bill, day, amount))
    pauses: dict[int, list[Pause]] = {}
    for a, start, end in repository.pauses_of(session, ids):
        pauses.setdefault(a, []).append(Pause(start, end))
    history: dict[int, list[tuple[dt.date, str]]] = {}
    for a, day, bucket in repository.bucket_events_of(session, ids):
        history.setdefault(a, []).append((day, bucket))
    now = clock.now()
    today: dict[str, dt.date] = {}
    delete_from: dict[int, dt.date] = {}
    events: list[dict[str, Any]] = []
    new: list[dict[str, Any]] = []
    known: list[dict[str, Any]] = []
    for account in repository.accounts_of(session, ids):
        product = products[account.product_code]
        if product.code not in today:
            today[product.code] = business_today(product, clock)
        through = max(last_run, today[product.code])
        from_date = since[account.id]
        if account.id not in stored:
            from_date = min(from_date, account.opened_date)
        else:
            from_date = min(from_date, max(stored[account.id], last_run) + ONE_DAY)
        aging = AccountAging(
            bills.get(account.id, []),
            paid.get(account.id, []),
            pauses.get(account.id, []),
            rules_for(product),
        )
        if from_date <= through:
            before = [b for day, b in history.get(account.id, []) if day < from_date]
            delete_from[account.id] = from_date
            changes = aging.history(
                from_date, through, bucket_before=before[-1] if before else None
            )
            events.extend(_event_rows(account.id, changes, cause=cause, now=now))
        state = aging.state(through)
        row = _state_row(account.id, state, credit=account.credit_minor, now=now)
        (known if account.id in stored else new).append(row)
    repository.delete_events_from_many(session, delete_from)
    repository.add_events(session, events)
    repository.store_states(session, new, known)
    session.expire_all()  # states were written set-based; reload on next access
    return len(new) + len(known)


def _event_rows(
    account_id: int, changes: list[BucketChange], *, cause: str, now: dt.datetime
) -> list[dict[str, Any]]:
    return [
        {
            "account_id": account_id,
            "effective_date": c.effective_date,
            "from_bucket": c.from_bucket,
            "to_bucket": c.to_bucket,
            "dpd": c.dpd,
            "cause": cause,
            "recorded_at": now,
        }
        for c in changes
        if not (c.from_bucket is None and c.to_bucket == "M0")  # M0 is implied before the first
    ]


def _state_row(
    account_id: int, state: DelinquencyState, *, credit: int, now: dt.datetime
) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "as_of_date": state.as_of,
        "dpd": state.dpd,
        "bucket": state.bucket,
        "oldest_unpaid_due_date": state.oldest_unpaid_due_date,
        "overdue_minor": state.overdue,
        "outstanding_minor": state.outstanding,
        "credit_minor": credit,
        "updated_at": now,
    }


def get_state(session: Session, account_id: int) -> AccountDelinquency | None:
    return DelinquencyRepository(session).state(account_id)


def pause_on(session: Session, account_id: int, pause_id: int) -> DelinquencyPause:
    """A live pause of this account; another account's answers exactly as a missing one."""
    pause = DelinquencyRepository(session).pause(pause_id)
    if pause is None or pause.account_id != account_id or pause.cancelled_at is not None:
        raise NotFound(f"no pause {pause_id} on account {account_id}")
    return pause


def history(session: Session, account_id: int) -> list[DelinquencyEvent]:
    return list(DelinquencyRepository(session).events(account_id))


def add_pause(
    session: Session,
    account: Account,
    *,
    start: dt.date,
    end: dt.date | None,
    kind: PauseKind,
    reason: str,
    by: str,
    clock: Clock,
    exclusive: bool = True,
    arrangement_id: int | None = None,
    case_id: int | None = None,
) -> DelinquencyPause:
    """Days in [start, end] stop counting towards DPD (Fineract's delinquency pause). `kind` is
    what the pause means to the rules; a plan or a case that holds it is named (`arrangement_id`,
    `case_id`) and finds it by that. A staff pause is `exclusive`; those a plan, dispute or
    hardship case holds may overlap others."""
    if end is not None and end < start:
        raise ValidationFailed("a pause cannot end before it starts")
    for other in DelinquencyRepository(session).pauses(account.id) if exclusive else ():
        other_end = other.end_date or dt.date.max
        if start <= other_end and (end or dt.date.max) >= other.start_date:
            raise Conflict(
                f"pause overlaps the pause from {other.start_date} "
                f"to {other.end_date or 'open end'}; end or cancel that one first"
            )
    pause = DelinquencyRepository(session).add_pause(
        account_id=account.id,
        start_date=start,
        end_date=end,
        kind=kind,
        arrangement_id=arrangement_id,
        case_id=case_id,
        reason=reason,
        created_by=by,
        created_at=clock.now(),
    )
    recompute_account(session, account, from_date=start, clock=clock, cause="pause")
    audit_service.record(
        session,
        actor=by,
        action="delinquency.paused",
        subject_type="account",
        subject_id=account.id,
        clock=clock,
        after={"start": start, "end": end, "kind": kind, "reason": reason},
    )
    return pause


def end_pause(
    session: Session, account: Account, pause: DelinquencyPause, *, end: dt.date, clock: Clock
) -> DelinquencyPause:
    if end < pause.start_date:
        raise ValidationFailed("a pause cannot end before it starts")
    previous_end = pause.end_date
    DelinquencyRepository(session).set_pause_end(pause, end)
    first = min(end, previous_end) if previous_end else end
    recompute_account(session, account, from_date=first + ONE_DAY, clock=clock, cause="pause")
    return pause


def lift_pause(
    session: Session,
    account: Account,
    pause: DelinquencyPause,
    *,
    last_day: dt.date,
    clock: Clock,
) -> DelinquencyPause:
    """End a pause after `last_day`, the last day it covers; one that had not begun by then is
    cancelled, as if it had never been."""
    if last_day >= pause.start_date:
        return end_pause(session, account, pause, end=last_day, clock=clock)
    DelinquencyRepository(session).cancel_pause(pause, clock.now())
    recompute_account(session, account, from_date=pause.start_date, clock=clock, cause="pause")
    return pause


def run_daily(
    session: Session, as_of: dt.date, *, clock: Clock, progress: Progress | None = None
) -> RunSummary:
    """The portfolio pass, set-based: compute every account's state as of `as_of`, store what changed,
    and date each bucket change exactly (a run after a gap of several days recomputes the changed
    accounts' history over the gap with the exact engine). The summary carries every account's
    state as the table now holds it (`RunSummary.states`), for the strategy run of the same day."""
    step = progress or (lambda _msg: None)
    repo = DelinquencyRepository(session)
    last = repo.last_run_date()
    if last is not None and as_of < last:
        raise RunOutOfOrder(
            f"delinquency is already computed through {last}; a pass for {as_of} would rewrite the "
            "present with the past"
        )
    now = clock.now()
    run = repo.start_run(as_of, now)

    step("reading the portfolio")
    products = repo.products()
    scheme_of = {p.code: batch.scheme_key(rules_for(p).scheme) for p in products}
    grace_of = {p.code: p.grace_days for p in products}
    read = repo.portfolio_frames(as_of)
    accounts = read.accounts.join(read.credit_after, on="account_id", how="left").with_columns(
        grace_days=pl.col("product_code").replace_strict(grace_of, return_dtype=pl.Int32),
        scheme=pl.col("product_code").replace_strict(scheme_of, return_dtype=pl.String),
        credit_minor=pl.col("credit_minor") - pl.col("after").fill_null(0),
    )
    open_bills, pauses, previous = read.open_bills, read.pauses, read.states

    step("computing days past due")
    states = batch.compute_states(
        as_of,
        accounts.lazy(),
        open_bills.select("account_id", "bill_id", "due_date", "amount_due").lazy(),
        open_bills.select(
            "account_id", "bill_id", value_date=pl.lit(as_of, dtype=pl.Date), amount="paid"
        ).lazy(),
        pl.LazyFrame(schema={"account_id": pl.Int64, "value_date": pl.Date, "amount": pl.Int64}),
        pauses.lazy(),
        sorted(set(scheme_of.values())),
    )
    joined = states.join(previous, on="account_id", how="left")
    differs = (
        pl.col("prev_bucket").is_null()
        | (pl.col("dpd") != pl.col("prev_dpd"))
        | (pl.col("bucket") != pl.col("prev_bucket"))
        | (pl.col("overdue_minor") != pl.col("prev_overdue"))
        | (pl.col("outstanding_minor") != pl.col("prev_outstanding"))
        | (pl.col("credit_minor") != pl.col("prev_credit"))
        | (pl.col("oldest_unpaid_due_date").eq_missing(pl.col("prev_oldest")).not_())
    )
    changed = joined.filter(differs)

    step("recording bucket changes")
    since = pl.max_horizontal(pl.col("prev_as_of"), pl.lit(last or dt.date.min))
    moved = changed.filter(
        pl.when(pl.col("prev_bucket").is_null())
        .then(pl.col("bucket") != "M0")
        .otherwise(pl.col("bucket") != pl.col("prev_bucket"))
    )
    contiguous = moved.filter(pl.col("prev_bucket").is_null() | (since >= pl.lit(as_of - ONE_DAY)))
    events = contiguous.select(
        "account_id",
        effective_date=pl.lit(as_of, dtype=pl.Date),
        from_bucket=pl.col("prev_bucket"),
        to_bucket=pl.col("bucket"),
        dpd=pl.col("dpd"),
        cause=pl.lit("daily"),
        recorded_at=frames.utc_now_column(now, contiguous.height),
    )
    repo.insert_events_frame(events)
    gap_changes = 0
    for row in moved.join(contiguous.select("account_id"), on="account_id", how="anti").iter_rows(
        named=True
    ):
        account = ledger_service.get_account(session, row["account_id"])
        product = next(p for p in products if p.code == account.product_code)
        start = max(row["prev_as_of"], last or dt.date.min) + ONE_DAY
        changes = aging_for(session, account, product).history(
            start, as_of, bucket_before=row["prev_bucket"]
        )
        repository.add_events(session, _event_rows(account.id, changes, cause="daily", now=now))
        gap_changes += len(changes)

    step("storing states")
    rows = changed.select(
        "account_id",
        as_of_date=pl.lit(as_of, dtype=pl.Date),
        dpd="dpd",
        bucket="bucket",
        oldest_unpaid_due_date="oldest_unpaid_due_date",
        overdue_minor="overdue_minor",
        outstanding_minor="outstanding_minor",
        credit_minor="credit_minor",
        updated_at=frames.utc_now_column(now, changed.height),
    )
    is_new = changed["prev_bucket"].is_null()
    repo.store_states_frame(rows.filter(is_new), rows.filter(~is_new))
    repo.finish_run(run, accounts=states.height, changed=changed.height, now=clock.now())
    audit_service.record(
        session,
        actor="system:daily",
        action="delinquency.pass",
        subject_type="portfolio",
        subject_id=as_of.isoformat(),
        clock=clock,
        details={"accounts": states.height, "changed": changed.height},
    )
    session.flush()
    session.expire_all()  # rows were rewritten set-based; reload on next access
    by_bucket = dict(states.group_by("bucket").len().iter_rows())
    log.info(
        "delinquency.pass_finished",
        as_of=as_of.isoformat(),
        accounts=states.height,
        changed=changed.height,
        bucket_changes=events.height + gap_changes,
        by_bucket=by_bucket,
    )
    # The table's rows after the pass, from the frames: the changed ones as written today, the
    # others as they were (every value equal to the day's, by `differs`).
    day_states = joined.select(
        "account_id",
        state_date=pl.when(differs).then(pl.lit(as_of)).otherwise(pl.col("prev_as_of")),
        dpd=pl.col("dpd").cast(pl.Int64),
        bucket="bucket",
        overdue_minor="overdue_minor",
        outstanding_minor="outstanding_minor",
    )
    return RunSummary(
        as_of,
        states.height,
        changed.height,
        events.height + gap_changes,
        by_bucket,
        states=day_states,
        moved=moved["account_id"],
    )


def portfolio_by_bucket(session: Session) -> list[tuple[str, str, int, int, int]]:
    return repository.portfolio_by_bucket(session)
