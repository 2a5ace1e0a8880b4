from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recoup.delinquency import service as delinquency_service
from recoup.delinquency.service import RunOutOfOrder
from recoup.kit import frames
from recoup.kit.clock import SettableClock
from recoup.ledger import flows, schemas
from recoup.models import DelinquencyEvent, PauseKind, Product
from tests.factories import add_bill, create_account, pay, shanghai

D = dt.date


def events(session: Session, account_id: int) -> list[tuple[dt.date, str | None, str, str]]:
    return [
        (e.effective_date, e.from_bucket, e.to_bucket, e.cause)
        for e in delinquency_service.history(session, account_id)
    ]


def run(session: Session, clock: SettableClock, day: dt.date) -> delinquency_service.RunSummary:
    clock.set(shanghai(day, 1))
    return delinquency_service.run_daily(session, day, clock=clock)


class TestDailyPass:
    def test_first_pass_records_state_and_first_observation(
        self, session: Session, clock: SettableClock
    ) -> None:
        clock.set(shanghai(D(2026, 3, 1)))
        late = create_account(session, clock)
        add_bill(session, clock, late, D(2026, 3, 10), 100_00)
        current = create_account(session, clock)
        add_bill(session, clock, current, D(2026, 3, 10), 100_00)
        clock.set(shanghai(D(2026, 3, 9), 20))
        pay(session, clock, current, 100_00, shanghai(D(2026, 3, 9)))
        summary = run(session, clock, D(2026, 3, 15))
        state = delinquency_service.get_state(session, late.id)
        assert state is not None
        assert (state.dpd, state.bucket, state.overdue_minor) == (5, "M1", 100_00)
        assert summary.by_bucket["M1"] >= 1
        # the pass closes the gap since the bill was recorded and dates the change exactly
        assert events(session, late.id) == [(D(2026, 3, 11), "M0", "M1", "daily")]
        paid_state = delinquency_service.get_state(session, current.id)
        assert paid_state is not None
        assert (paid_state.dpd, paid_state.bucket) == (0, "M0")

    def test_consecutive_days_date_each_change_on_its_day(
        self, session: Session, clock: SettableClock
    ) -> None:
        clock.set(shanghai(D(2026, 3, 1)))
        account = create_account(session, clock)
        add_bill(session, clock, account, D(2026, 3, 1), 500_00)
        for day in range(28, 32):
            run(session, clock, D(2026, 3, 1) + dt.timedelta(days=day))
        assert events(session, account.id)[-1][:3] == (D(2026, 4, 1), "M1", "M2")

    def test_rerun_of_the_same_day_changes_nothing(
        self, session: Session, clock: SettableClock
    ) -> None:
        clock.set(shanghai(D(2026, 3, 1)))
        account = create_account(session, clock)
        add_bill(session, clock, account, D(2026, 2, 1), 500_00)
        run(session, clock, D(2026, 3, 20))
        before = session.execute(select(func.count()).select_from(DelinquencyEvent)).scalar_one()
        second = run(session, clock, D(2026, 3, 20))
        after = session.execute(select(func.count()).select_from(DelinquencyEvent)).scalar_one()
        assert (second.changed, second.bucket_changes, after) == (0, 0, before)

    def test_a_gap_between_passes_dates_changes_exactly(
        self, session: Session, clock: SettableClock
    ) -> None:
        clock.set(shanghai(D(2026, 3, 1)))
        account = create_account(session, clock)
        add_bill(session, clock, account, D(2026, 3, 1), 500_00)
        run(session, clock, D(2026, 3, 5))
        # ten weeks without a pass: the account went through M2 and M3
        run(session, clock, D(2026, 5, 15))
        moves = [(day, old, new) for day, old, new, _ in events(session, account.id)]
        assert (D(2026, 4, 1), "M1", "M2") in moves
        assert (D(2026, 5, 1), "M2", "M3") in moves

    def test_a_pass_for_an_earlier_day_is_refused(
        self, session: Session, clock: SettableClock
    ) -> None:
        create_account(session, clock)
        run(session, clock, D(2026, 3, 20))
        with pytest.raises(RunOutOfOrder):
            run(session, clock, D(2026, 3, 19))


class TestMoneyDatedAfterTheDay:
    """A pass for a day before money already recorded sees the day as it was (`_paid_by`,
    `_credit_after`); a pass for the present reads none of that money, whose grouped reads
    scan the payments and allocations tables on SQLite (`DelinquencyRepository._dated_after`)."""

    def test_a_pass_for_a_day_before_a_payment_counts_the_bill_unpaid_and_no_credit(
        self, session: Session, clock: SettableClock
    ) -> None:
        """Catches the later money's reads left out when there is some (the probe answering
        none): the bill would count as paid on the 15th and the credit as held."""
        clock.set(shanghai(D(2026, 3, 1)))
        account = create_account(session, clock)
        add_bill(session, clock, account, D(2026, 3, 10), 100_00)
        clock.set(shanghai(D(2026, 3, 21)))
        pay(session, clock, account, 150_00, shanghai(D(2026, 3, 20)))
        run(session, clock, D(2026, 3, 15))
        state = delinquency_service.get_state(session, account.id)
        assert state is not None
        assert (state.dpd, state.bucket, state.overdue_minor, state.credit_minor) == (
            5,
            "M1",
            100_00,
            0,
        )

    def test_a_pass_for_the_present_reads_no_later_money(
        self, session: Session, clock: SettableClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Catches the grouped reads of payments and allocations dated after the day run when
        there are none (the probes removed): each is a scan of its table on SQLite."""
        clock.set(shanghai(D(2026, 3, 1)))
        account = create_account(session, clock)
        add_bill(session, clock, account, D(2026, 3, 10), 100_00)
        clock.set(shanghai(D(2026, 3, 12)))
        pay(session, clock, account, 150_00, shanghai(D(2026, 3, 12)))
        read: list[str] = []
        real = frames.read_frames

        def spy(session: Session, reads: Any) -> list[pl.DataFrame]:
            read.extend(str(stmt) for stmt, _ in reads)
            return real(session, reads)

        monkeypatch.setattr(frames, "read_frames", spy)
        run(session, clock, D(2026, 3, 15))
        assert read
        assert not any("payments" in sql or "allocations" in sql for sql in read)
        state = delinquency_service.get_state(session, account.id)
        assert state is not None
        assert (state.dpd, state.bucket, state.overdue_minor, state.credit_minor) == (
            0,
            "M0",
            0,
            50_00,
        )


class TestGraceAndBuckets:
    def test_grace_days_delay_delinquency_but_dpd_counts_from_due_date(
        self, session: Session, clock: SettableClock
    ) -> None:
        product = session.get(Product, "micro_loan")
        assert product is not None
        product.grace_days = 3
        clock.set(shanghai(D(2026, 3, 1)))
        account = create_account(session, clock, product="micro_loan")
        add_bill(session, clock, account, D(2026, 3, 10), 100_00)
        run(session, clock, D(2026, 3, 13))
        state = delinquency_service.get_state(session, account.id)
        assert state is not None
        assert (state.dpd, state.bucket) == (0, "M0")
        run(session, clock, D(2026, 3, 14))
        state = delinquency_service.get_state(session, account.id)
        assert state is not None
        assert (state.dpd, state.bucket) == (4, "M1")

    def test_product_bucket_bounds_override_the_default(
        self, session: Session, clock: SettableClock
    ) -> None:
        product = session.get(Product, "credit_line")
        assert product is not None
        product.bucket_bounds = [1, 8, 31]
        clock.set(shanghai(D(2026, 3, 1)))
        account = create_account(session, clock, product="credit_line")
        add_bill(session, clock, account, D(2026, 3, 1), 100_00)
        run(session, clock, D(2026, 3, 10))
        state = delinquency_service.get_state(session, account.id)
        assert state is not None
        assert (state.dpd, state.bucket) == (9, "M2")

    def test_partial_payment_keeps_the_bill_overdue(
        self, session: Session, clock: SettableClock
    ) -> None:
        clock.set(shanghai(D(2026, 3, 1)))
        account = create_account(session, clock)
        add_bill(session, clock, account, D(2026, 3, 1), 100_00)
        clock.set(shanghai(D(2026, 3, 2), 20))
        pay(session, clock, account, 99_99, shanghai(D(2026, 3, 2)))
        run(session, clock, D(2026, 3, 12))
        state = delinquency_service.get_state(session, account.id)
        assert state is not None
        assert (state.dpd, state.overdue_minor) == (11, 1)


class TestPauses:
    def test_paused_days_do_not_count(self, session: Session, clock: SettableClock) -> None:
        clock.set(shanghai(D(2026, 3, 20)))
        account = create_account(session, clock)
        add_bill(session, clock, account, D(2026, 3, 1), 100_00)
        delinquency_service.add_pause(
            session,
            account,
            start=D(2026, 3, 5),
            end=D(2026, 3, 14),
            kind=PauseKind.other,
            reason="typhoon relief",
            by="sup:li",
            clock=clock,
        )
        state = delinquency_service.get_state(session, account.id)
        assert state is not None
        assert state.dpd == 19 - 10
        run(session, clock, D(2026, 3, 21))
        state = delinquency_service.get_state(session, account.id)
        assert state is not None
        assert state.dpd == 20 - 10

    def test_open_pause_freezes_dpd_until_it_ends(
        self, session: Session, clock: SettableClock
    ) -> None:
        clock.set(shanghai(D(2026, 3, 10)))
        account = create_account(session, clock)
        add_bill(session, clock, account, D(2026, 3, 1), 100_00)
        pause = delinquency_service.add_pause(
            session,
            account,
            start=D(2026, 3, 11),
            end=None,
            kind=PauseKind.other,
            reason="death in family",
            by="sup:li",
            clock=clock,
        )
        run(session, clock, D(2026, 4, 30))
        state = delinquency_service.get_state(session, account.id)
        assert state is not None
        assert (state.dpd, state.bucket) == (9, "M1")
        clock.set(shanghai(D(2026, 5, 5)))
        delinquency_service.end_pause(session, account, pause, end=D(2026, 4, 30), clock=clock)
        state = delinquency_service.get_state(session, account.id)
        assert state is not None
        assert state.dpd == 9 + 5

    def test_overlapping_pauses_are_refused(self, session: Session, clock: SettableClock) -> None:
        account = create_account(session, clock)
        delinquency_service.add_pause(
            session,
            account,
            start=D(2026, 3, 1),
            end=D(2026, 3, 10),
            kind=PauseKind.other,
            reason="a",
            by="s",
            clock=clock,
        )
        with pytest.raises(Exception, match="overlaps"):
            delinquency_service.add_pause(
                session,
                account,
                start=D(2026, 3, 10),
                end=D(2026, 3, 20),
                kind=PauseKind.other,
                reason="b",
                by="s",
                clock=clock,
            )


class TestBackdatedChanges:
    def test_backdated_payment_after_passes_rewrites_history_from_its_date(
        self, session: Session, clock: SettableClock
    ) -> None:
        clock.set(shanghai(D(2026, 3, 1)))
        account = create_account(session, clock)
        add_bill(session, clock, account, D(2026, 3, 1), 100_00)
        add_bill(session, clock, account, D(2026, 4, 1), 100_00)
        for day in (D(2026, 3, 20), D(2026, 4, 5), D(2026, 4, 20)):
            run(session, clock, day)
        # a payment made on 25 March reaches us late: it paid March's bill, so April's is the oldest
        clock.set(shanghai(D(2026, 4, 21)))
        pay(session, clock, account, 100_00, shanghai(D(2026, 3, 25)))
        state = delinquency_service.get_state(session, account.id)
        assert state is not None
        assert (state.dpd, state.oldest_unpaid_due_date) == (20, D(2026, 4, 1))
        moves = [(day, old, new) for day, old, new, _ in events(session, account.id)]
        assert (D(2026, 3, 25), "M1", "M0") in moves
        assert (D(2026, 4, 2), "M0", "M1") in moves
        assert not any(new == "M2" for _, _, new in moves)

    def test_reversal_of_an_old_payment_reopens_history(
        self, session: Session, clock: SettableClock
    ) -> None:
        clock.set(shanghai(D(2026, 3, 1)))
        account = create_account(session, clock)
        add_bill(session, clock, account, D(2026, 3, 1), 100_00)
        clock.set(shanghai(D(2026, 3, 3), 20))
        payment = pay(session, clock, account, 100_00, shanghai(D(2026, 3, 3)))
        for day in (D(2026, 3, 20), D(2026, 4, 5)):
            run(session, clock, day)
        clock.set(shanghai(D(2026, 4, 6)))
        flows.reverse_payment(
            session, payment.id, schemas.PaymentReversal(reason="chargeback"), clock=clock
        )
        state = delinquency_service.get_state(session, account.id)
        assert state is not None
        assert (state.dpd, state.bucket) == (36, "M2")
        moves = [(day, new) for day, _, new, _ in events(session, account.id)]
        assert moves[-2:] == [(D(2026, 3, 2), "M1"), (D(2026, 4, 1), "M2")]

    def test_batch_state_after_backdated_changes_equals_single_account_state(
        self, session: Session, clock: SettableClock
    ) -> None:
        clock.set(shanghai(D(2026, 3, 1)))
        account = create_account(session, clock)
        add_bill(session, clock, account, D(2026, 2, 1), 300_00, interest=12_00, fees=5_00)
        add_bill(session, clock, account, D(2026, 3, 1), 300_00, interest=12_00)
        run(session, clock, D(2026, 3, 10))
        clock.set(shanghai(D(2026, 3, 11)))
        pay(session, clock, account, 200_00, shanghai(D(2026, 2, 20)))
        single = delinquency_service.get_state(session, account.id)
        assert single is not None
        snapshot = (single.dpd, single.bucket, single.overdue_minor, single.outstanding_minor)
        summary = run(session, clock, D(2026, 3, 11))
        after = delinquency_service.get_state(session, account.id)
        assert after is not None
        assert (after.dpd, after.bucket, after.overdue_minor, after.outstanding_minor) == snapshot
        assert summary.accounts >= 1
