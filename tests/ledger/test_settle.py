"""The one settle flow (`ledger.flows.settle`): every way money moves re-decides each account it
touched exactly once, in its own transaction, and an imported settlement file stops the reminders
of the debts it paid before it commits."""

from __future__ import annotations

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recoup.arrangements import flows as arrangement_flows
from recoup.ingest.columns import Kind
from recoup.ingest.importer import Importer
from recoup.kit.clock import SettableClock
from recoup.models import AuditEvent, ContactEvent, ContactPlan
from recoup.strategy import service as strategy_service
from tests.arrangements.test_flows import DAY0, ONE_DAY, late_account, on
from tests.factories import pay, shanghai


def redecisions(session: Session, account_id: int) -> int:
    return session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.action == "strategy.redecided",
            AuditEvent.subject_type == "account",
            AuditEvent.subject_id == str(account_id),
        )
    )


class TestOneRedecision:
    def test_a_payment_keeping_a_promise_writes_one_redecision(
        self, session: Session, clock: SettableClock
    ) -> None:
        """Catches the arrangements review re-deciding on its own beside the payment's own
        re-decision (two `strategy.redecided` entries in one transaction, as before the settle
        flow held both in one `deferred_redecisions` block)."""
        account = late_account(session, clock)
        promise = arrangement_flows.promise(
            session,
            account,
            amount_minor=10_000,
            on=DAY0 + 3 * ONE_DAY,
            made_by="debtor",
            channel="portal",
            clock=clock,
        )
        on(clock, DAY0 + ONE_DAY)
        before = redecisions(session, account.id)
        pay(session, clock, account, 10_000, shanghai(DAY0 + ONE_DAY))
        assert promise.status == "kept"
        assert redecisions(session, account.id) == before + 1
        entry = (
            session.execute(
                select(AuditEvent)
                .where(AuditEvent.action == "strategy.redecided")
                .order_by(AuditEvent.seq.desc())
            )
            .scalars()
            .first()
        )
        assert entry is not None
        assert entry.details["cause"] == "arrangement kept"


class TestImportedSettlements:
    def test_an_imported_settlement_file_cancels_the_reminders_of_the_debts_it_paid(
        self, session: Session, clock: SettableClock
    ) -> None:
        """Catches an import that allocates money without the settle flow (the importer's old
        road: reallocate only, reminders left to the send-time check): the day's reminder must be
        cancelled inside the import's own transaction, with its event."""
        account = late_account(session, clock)
        paid_off = late_account(session, clock)
        on(clock, DAY0)
        strategy_service.run(session, DAY0, clock=clock)
        waiting = dict(
            session.execute(
                select(ContactPlan.account_id, ContactPlan.status).where(
                    ContactPlan.account_id.in_([account.id, paid_off.id])
                )
            ).all()
        )
        assert waiting == {account.id: "planned", paid_off.id: "planned"}
        decided = {a: redecisions(session, a) for a in (account.id, paid_off.id)}
        rows = pl.DataFrame(
            {
                "external_id": ["settle-1"],
                "account_ref": [paid_off.external_ref],
                "amount_minor": ["30000"],  # the bill due before DAY0, in full
                "currency": ["CNY"],
                "received_at": [shanghai(DAY0, 17).isoformat()],
                "source": ["wallet"],
                "_line": [2],
            }
        )
        result = Importer(session, clock=clock).import_rows(
            "settlement 2026-06-20", Kind.payments, rows
        )
        assert not result.errors
        after = dict(
            session.execute(
                select(ContactPlan.account_id, ContactPlan.status).where(
                    ContactPlan.account_id.in_([account.id, paid_off.id])
                )
            ).all()
        )
        assert after == {account.id: "planned", paid_off.id: "cancelled"}
        last = session.execute(
            select(ContactEvent.status, ContactEvent.detail)
            .join(ContactPlan, ContactPlan.id == ContactEvent.contact_id)
            .where(ContactPlan.account_id == paid_off.id)
            .order_by(ContactEvent.id.desc())
        ).first()
        assert last is not None
        assert (last[0], last[1]["reason"]) == ("cancelled", "redecided after import")
        assert redecisions(session, paid_off.id) == decided[paid_off.id] + 1
        assert redecisions(session, account.id) == decided[account.id]

    def test_an_imported_file_recomputes_delinquency_as_one_payment_at_a_time_would(
        self, session: Session, clock: SettableClock
    ) -> None:
        """The set-based recompute (`delinquency.service.recompute_many`) gives each account the
        state and bucket history the one-account path gives."""
        from recoup.delinquency import service as delinquency_service
        from recoup.models import DelinquencyEvent

        accounts = [late_account(session, clock, days_late=d) for d in (5, 35, 65)]
        on(clock, DAY0 + 2 * ONE_DAY)

        def snapshot() -> list[tuple[object, ...]]:
            out: list[tuple[object, ...]] = []
            for a in accounts:
                s = delinquency_service.get_state(session, a.id)
                assert s is not None
                out.append((s.as_of_date, s.dpd, s.bucket, s.overdue_minor, s.outstanding_minor))
                out.extend(
                    (e.effective_date, e.from_bucket, e.to_bucket, e.dpd)
                    for e in session.execute(
                        select(DelinquencyEvent)
                        .where(DelinquencyEvent.account_id == a.id)
                        .order_by(DelinquencyEvent.effective_date, DelinquencyEvent.id)
                    ).scalars()
                )
            return out

        backdated = [shanghai(DAY0 - 3 * ONE_DAY), shanghai(DAY0), shanghai(DAY0 + ONE_DAY)]
        unpaid = snapshot()
        one_by_one = session.begin_nested()
        for a, at in zip(accounts, backdated, strict=True):
            pay(session, clock, a, 30_000, at)
        expected = snapshot()
        one_by_one.rollback()
        session.expire_all()
        rows = pl.DataFrame(
            {
                "external_id": [f"file-{a.id}" for a in accounts],
                "account_ref": [a.external_ref for a in accounts],
                "amount_minor": ["30000"] * 3,
                "currency": ["CNY"] * 3,
                "received_at": [at.isoformat() for at in backdated],
                "source": ["wallet"] * 3,
                "_line": [2, 3, 4],
            }
        )
        assert not Importer(session, clock=clock).import_rows("f", Kind.payments, rows).errors
        assert expected != unpaid  # the payments moved states and histories
        assert snapshot() == expected
