"""SQL for delinquency: account states, bucket history, pauses and the daily runs, one account at a
time or set-based for a batch (the settle flow) and the portfolio (the daily pass). The only writer
of those four tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, Table, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from recoup.kit import bulk, frames
from recoup.kit.db import among
from recoup.kit.repository import Repository
from recoup.models import (
    Account,
    AccountDelinquency,
    Allocation,
    Bill,
    DelinquencyEvent,
    DelinquencyPause,
    DelinquencyRun,
    Payment,
    Product,
)


class DelinquencyRepository(Repository[AccountDelinquency]):
    model = AccountDelinquency

    def last_run_date(self) -> dt.date | None:
        return self.session.execute(
            select(func.max(DelinquencyRun.as_of_date)).where(
                DelinquencyRun.finished_at.is_not(None)
            )
        ).scalar_one_or_none()

    def run_for(self, as_of: dt.date) -> DelinquencyRun | None:
        return self.session.execute(
            select(DelinquencyRun).where(DelinquencyRun.as_of_date == as_of)
        ).scalar_one_or_none()

    def start_run(self, as_of: dt.date, now: dt.datetime) -> DelinquencyRun:
        """The day's run row, started now (a second pass for the same day restarts it)."""
        run = self.run_for(as_of) or DelinquencyRun(as_of_date=as_of, started_at=now)
        run.started_at, run.finished_at = now, None
        self.session.add(run)
        return run

    def finish_run(
        self, run: DelinquencyRun, *, accounts: int, changed: int, now: dt.datetime
    ) -> None:
        run.accounts, run.changed, run.finished_at = accounts, changed, now

    def state(self, account_id: int) -> AccountDelinquency | None:
        # populate_existing: the portfolio pass writes set-based, behind the identity map's back
        return self.session.get(AccountDelinquency, account_id, populate_existing=True)

    def states_of(self, account_ids: Collection[int]) -> dict[int, AccountDelinquency]:
        d = AccountDelinquency
        rows = self.session.scalars(select(d).where(among(self.session, d.account_id, account_ids)))
        return {row.account_id: row for row in rows}

    def pause(self, pause_id: int) -> DelinquencyPause | None:
        return self.session.get(DelinquencyPause, pause_id)

    def add_pause(self, **values: Any) -> DelinquencyPause:
        pause = DelinquencyPause(**values)
        self.session.add(pause)
        self.session.flush()
        return pause

    def set_pause_end(self, pause: DelinquencyPause, end: dt.date) -> None:
        pause.end_date = end
        self.session.flush()

    def cancel_pause(self, pause: DelinquencyPause, now: dt.datetime) -> None:
        pause.cancelled_at = now
        self.session.flush()

    def insert_events_frame(self, events: pl.DataFrame) -> int:
        """Bucket changes of the portfolio pass (`delinquency_events` columns)."""
        return frames.insert_frame(self.session, _table(DelinquencyEvent), events)

    def store_states_frame(self, new: pl.DataFrame, known: pl.DataFrame) -> None:
        """The portfolio pass's changed states: insert the accounts seen for the first time,
        update the others by account."""
        table = _table(AccountDelinquency)
        frames.insert_frame(self.session, table, new)
        frames.update_frame(self.session, table, known, key="account_id")

    def events(self, account_id: int) -> Sequence[DelinquencyEvent]:
        return (
            self.session.execute(
                select(DelinquencyEvent)
                .where(DelinquencyEvent.account_id == account_id)
                .order_by(DelinquencyEvent.effective_date, DelinquencyEvent.id)
            )
            .scalars()
            .all()
        )

    def last_event_before(self, account_id: int, day: dt.date) -> DelinquencyEvent | None:
        return self.session.execute(
            select(DelinquencyEvent)
            .where(DelinquencyEvent.account_id == account_id, DelinquencyEvent.effective_date < day)
            .order_by(DelinquencyEvent.effective_date.desc(), DelinquencyEvent.id.desc())
            .limit(1)
        ).scalar_one_or_none()

    def delete_events_from(self, account_id: int, day: dt.date) -> None:
        self.session.execute(
            delete(DelinquencyEvent).where(
                DelinquencyEvent.account_id == account_id, DelinquencyEvent.effective_date >= day
            )
        )

    def pauses(self, account_id: int) -> Sequence[DelinquencyPause]:
        return (
            self.session.execute(
                select(DelinquencyPause)
                .where(
                    DelinquencyPause.account_id == account_id,
                    DelinquencyPause.cancelled_at.is_(None),
                )
                .order_by(DelinquencyPause.start_date)
            )
            .scalars()
            .all()
        )

    # Set-based reads for the portfolio pass.

    def portfolio_frames(self, as_of: dt.date) -> PortfolioFrames:
        """What the portfolio pass reads, read back to back (`frames.read_frames`: the server
        computes each aggregate while Polars parses the rows before it).

        The money dated after the day (payments received, allocations made) is read only when
        there is some (`_dated_after`: a lookup in the value dates' index): a pass for the
        present finds none. Its grouped reads are a scan of the whole table on SQLite, whose
        planner walks the index the grouping is by rather than the value dates' (a third of the
        demo's delinquency pass, 20,000 accounts, for three empty results)."""
        payments_after = _dated_after(self.session, Payment.value_date, as_of)
        allocations_after = _dated_after(self.session, Allocation.value_date, as_of)
        reads = [_accounts_read(), _open_bills_read(as_of), _states_read(), _pauses_read()]
        if payments_after:
            reads.append(_received_after(as_of))
        if allocations_after:
            reads += [_allocated_after(as_of), _late_read(as_of)]
        accounts, open_bills, states, pauses, *later = frames.read_frames(self.session, reads)
        received = later.pop(0) if payments_after else _empty(_received_after(as_of))
        allocated, late = (
            later
            if allocations_after
            else (_empty(_allocated_after(as_of)), _empty(_late_read(as_of)))
        )
        return PortfolioFrames(
            accounts=accounts,
            credit_after=_credit_after(received, allocated),
            open_bills=_paid_by(open_bills, late),
            pauses=pauses,
            states=states,
        )

    def products(self) -> Sequence[Product]:
        return self.session.execute(select(Product)).scalars().all()

    def open_for_arrangement(self, arrangement_id: int) -> Sequence[DelinquencyPause]:
        """The pauses still running that this arrangement (a plan) holds."""
        return self._open(DelinquencyPause.arrangement_id == arrangement_id)

    def open_for_case(self, case_id: int) -> Sequence[DelinquencyPause]:
        """The pauses still running that this case (a dispute, a hardship review) holds."""
        return self._open(DelinquencyPause.case_id == case_id)

    def _open(self, held_by: ColumnElement[bool]) -> Sequence[DelinquencyPause]:
        return (
            self.session.execute(
                select(DelinquencyPause).where(
                    held_by,
                    DelinquencyPause.end_date.is_(None),
                    DelinquencyPause.cancelled_at.is_(None),
                )
            )
            .scalars()
            .all()
        )


@dataclass(frozen=True)
class PortfolioFrames:
    """The portfolio pass's inputs (`DelinquencyRepository.portfolio_frames`)."""

    accounts: pl.DataFrame
    credit_after: pl.DataFrame
    open_bills: pl.DataFrame
    pauses: pl.DataFrame
    states: pl.DataFrame


Read = tuple[Any, frames.Schema]


def _accounts_read() -> Read:
    return (
        select(Account.id, Account.product_code, Account.credit_minor),
        {"account_id": pl.Int64, "product_code": pl.String, "credit_minor": pl.Int64},
    )


def _open_bills_read(as_of: dt.date) -> Read:
    return (
        select(
            Bill.account_id,
            Bill.id,
            Bill.due_date,
            Bill.principal_minor + Bill.interest_minor + Bill.fees_minor,
            Bill.paid_minor,
        ).where(or_(Bill.paid_off_date.is_(None), Bill.paid_off_date > as_of)),
        {
            "account_id": pl.Int64,
            "bill_id": pl.Int64,
            "due_date": pl.Date,
            "amount_due": pl.Int64,
            "paid": pl.Int64,
        },
    )


def _late_read(as_of: dt.date) -> Read:
    return (
        select(Allocation.bill_id, func.sum(Allocation.amount_minor))
        .where(Allocation.value_date > as_of)
        .group_by(Allocation.bill_id),
        {"bill_id": pl.Int64, "late": pl.Int64},
    )


def _paid_by(open_bills: pl.DataFrame, late: pl.DataFrame) -> pl.DataFrame:
    """Bills not fully paid by the end of the day, with what was paid on them by then: the bills'
    paid caches less the allocations dated after the day (none unless the pass runs for a day
    before payments already recorded)."""
    return (
        open_bills.join(late, on="bill_id", how="left")
        .with_columns(paid=pl.col("paid") - pl.col("late").fill_null(0))
        .drop("late")
    )


def _received_after(as_of: dt.date) -> Read:
    return (
        select(Payment.account_id, func.sum(Payment.amount_minor))
        .where(Payment.value_date > as_of, Payment.reversed_at.is_(None))
        .group_by(Payment.account_id),
        {"account_id": pl.Int64, "received": pl.Int64},
    )


def _allocated_after(as_of: dt.date) -> Read:
    return (
        select(Allocation.account_id, func.sum(Allocation.amount_minor))
        .where(Allocation.value_date > as_of)
        .group_by(Allocation.account_id),
        {"account_id": pl.Int64, "allocated": pl.Int64},
    )


def _dated_after(session: Session, value_date: Any, as_of: dt.date) -> bool:
    """Whether any row of `value_date`'s table is dated after `as_of`."""
    found = session.execute(select(value_date).where(value_date > as_of).limit(1)).first()
    return found is not None


def _empty(read: Read) -> pl.DataFrame:
    """The frame a read returns when no row matches."""
    return pl.DataFrame(schema=read[1])


def _credit_after(received: pl.DataFrame, allocated: pl.DataFrame) -> pl.DataFrame:
    """Per account, live payments less allocations dated after the day (to roll credit back)."""
    return received.join(allocated, on="account_id", how="full", coalesce=True).select(
        "account_id", after=pl.col("received").fill_null(0) - pl.col("allocated").fill_null(0)
    )


def _pauses_read() -> Read:
    return (
        select(
            DelinquencyPause.account_id, DelinquencyPause.start_date, DelinquencyPause.end_date
        ).where(DelinquencyPause.cancelled_at.is_(None)),
        {"account_id": pl.Int64, "start_date": pl.Date, "end_date": pl.Date},
    )


def _states_read() -> Read:
    d = AccountDelinquency
    return (
        select(
            d.account_id,
            d.as_of_date,
            d.dpd,
            d.bucket,
            d.oldest_unpaid_due_date,
            d.overdue_minor,
            d.outstanding_minor,
            d.credit_minor,
        ),
        {
            "account_id": pl.Int64,
            "prev_as_of": pl.Date,
            "prev_dpd": pl.Int32,
            "prev_bucket": pl.String,
            "prev_oldest": pl.Date,
            "prev_overdue": pl.Int64,
            "prev_outstanding": pl.Int64,
            "prev_credit": pl.Int64,
        },
    )


def portfolio_by_bucket(session: Session) -> list[tuple[str, str, int, int, int]]:
    """(bucket, currency, accounts, overdue, outstanding) over the stored states."""
    d = AccountDelinquency
    rows = session.execute(
        select(
            d.bucket,
            Account.currency,
            func.count(),
            func.sum(d.overdue_minor),
            func.sum(d.outstanding_minor),
        )
        .join(Account, Account.id == d.account_id)
        .group_by(d.bucket, Account.currency)
    ).all()
    return [(b, c, int(n), int(o or 0), int(t or 0)) for b, c, n, o, t in rows]


# Set-based reads and writes for recomputing a batch of accounts exactly (the settle flow).


def accounts_of(session: Session, ids: Sequence[int]) -> list[Account]:
    return list(session.execute(select(Account).where(among(session, Account.id, ids))).scalars())


def stored_as_of(session: Session, ids: Sequence[int]) -> dict[int, dt.date]:
    d = AccountDelinquency
    rows = session.execute(
        select(d.account_id, d.as_of_date).where(among(session, d.account_id, ids))
    )
    return {a: day for a, day in rows}  # noqa: C416 (rows, not pairs, for mypy)


def bills_of(session: Session, ids: Sequence[int]) -> list[tuple[int, int, dt.date, int]]:
    """(account, bill, due date, amount due) of the accounts' bills."""
    rows = session.execute(
        select(
            Bill.account_id,
            Bill.id,
            Bill.due_date,
            Bill.principal_minor + Bill.interest_minor + Bill.fees_minor,
        ).where(among(session, Bill.account_id, ids))
    )
    return [(a, b, due, amount) for a, b, due, amount in rows]


def paid_lines_of(session: Session, ids: Sequence[int]) -> list[tuple[int, int, dt.date, int]]:
    """(account, bill, value date, amount) of the accounts' allocations."""
    rows = session.execute(
        select(
            Allocation.account_id,
            Allocation.bill_id,
            Allocation.value_date,
            Allocation.amount_minor,
        ).where(among(session, Allocation.account_id, ids))
    )
    return [(a, b, day, amount) for a, b, day, amount in rows]


def pauses_of(session: Session, ids: Sequence[int]) -> list[tuple[int, dt.date, dt.date | None]]:
    p = DelinquencyPause
    rows = session.execute(
        select(p.account_id, p.start_date, p.end_date).where(
            among(session, p.account_id, ids), p.cancelled_at.is_(None)
        )
    )
    return [(a, start, end) for a, start, end in rows]


def bucket_events_of(session: Session, ids: Sequence[int]) -> list[tuple[int, dt.date, str]]:
    """(account, effective date, bucket entered), in the order they happened, per account."""
    e = DelinquencyEvent
    rows = session.execute(
        select(e.account_id, e.effective_date, e.to_bucket)
        .where(among(session, e.account_id, ids))
        .order_by(e.account_id, e.effective_date, e.id)
    )
    return [(a, day, bucket) for a, day, bucket in rows]


def delete_events_from_many(session: Session, since: Mapping[int, dt.date]) -> None:
    """Each account's bucket history from its own date on, one statement per distinct date."""
    by_day: dict[dt.date, list[int]] = {}
    for account_id, day in since.items():
        by_day.setdefault(day, []).append(account_id)
    e = DelinquencyEvent
    for day, ids in by_day.items():
        session.execute(delete(e).where(among(session, e.account_id, ids), e.effective_date >= day))


def add_events(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        session.execute(insert(DelinquencyEvent), list(rows))


def store_states(
    session: Session, new: Sequence[Mapping[str, Any]], known: Sequence[Mapping[str, Any]]
) -> None:
    """Insert the states of accounts seen for the first time, update the others'."""
    if new:
        session.execute(insert(AccountDelinquency), list(new))
    bulk.update_rows(session, _table(AccountDelinquency), "account_id", known)


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def amounts_owed(session: Session, ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Each account's overdue and outstanding amounts, as the last pass stored them."""
    d = AccountDelinquency
    stmt = select(d.account_id, d.overdue_minor, d.outstanding_minor).where(d.account_id.in_(ids))
    return {
        account_id: (overdue, outstanding)
        for account_id, overdue, outstanding in session.execute(stmt)
    }


def owing_states(session: Session) -> pl.DataFrame:
    """account_id, bucket, overdue_minor of every account that owes something."""
    d = AccountDelinquency
    return frames.read_frame(
        session,
        select(d.account_id, d.bucket, d.overdue_minor).where(d.outstanding_minor > 0),
        {"account_id": pl.Int64, "bucket": pl.String, "overdue_minor": pl.Int64},
    )


def due_on(session: Session, day: dt.date) -> pl.DataFrame:
    """account_id, due_today_minor: what is unpaid of each account's bills due on `day` and not
    paid off."""
    b = Bill
    return frames.read_frame(
        session,
        select(
            b.account_id,
            func.sum(b.principal_minor + b.interest_minor + b.fees_minor - b.paid_minor),
        )
        .where(b.due_date == day, b.paid_off_date.is_(None))
        .group_by(b.account_id),
        {"account_id": pl.Int64, "due_today_minor": pl.Int64},
    )


def open_ended_hardship(session: Session) -> set[int]:
    """The accounts a hardship pause holds with no end date."""
    from recoup.models import PauseKind  # appended here: the imports above are shared work

    p = DelinquencyPause
    stmt = select(p.account_id).where(
        p.kind == PauseKind.hardship, p.end_date.is_(None), p.cancelled_at.is_(None)
    )
    return set(session.execute(stmt).scalars())
