"""A batch of debtors' requests in one transaction (`offers.batch`), each in its own savepoint: the
arrangements are those made one by one, a refused request leaves the others, and the accounts are
re-decided once, together, when the batch ends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session

from recoup.arrangements import flows, offers, repository
from recoup.arrangements.repository import ArrangementRepository
from recoup.kit.clock import SettableClock
from recoup.kit.errors import Conflict, RecoupError
from recoup.models import (
    Account,
    Arrangement,
    ArrangementInstalment,
    AuditEvent,
    Bill,
    ContactPlan,
    StrategyDecision,
)
from recoup.strategy import service as strategy_service
from recoup.strategy.service.redecisions import DEFERRED
from tests.arrangements.test_flows import DAY0, ONE_DAY, decision, late_account
from tests.factories import pay, shanghai

Request = Callable[[Session, Account, SettableClock], Arrangement]


def promise(session: Session, account: Account, clock: SettableClock) -> Arrangement:
    return flows.promise(
        session,
        account,
        amount_minor=10_000,
        on=DAY0 + 3 * ONE_DAY,
        made_by="debtor",
        channel="portal",
        clock=clock,
    )


def plan(
    session: Session,
    account: Account,
    clock: SettableClock,
    *,
    instalments: int = 3,
    budget: int | None = 30_000,
) -> Arrangement:
    return flows.plan(
        session,
        account,
        instalments=instalments,
        monthly_budget=budget,
        monthly_income=None,
        made_by="debtor",
        channel="portal",
        clock=clock,
    )


def settlement(session: Session, account: Account, clock: SettableClock) -> Arrangement:
    return flows.settlement(
        session, account, amount_minor=50_000, made_by="agent:7", channel="call", clock=clock
    )


def long_plan(session: Session, account: Account, clock: SettableClock) -> Arrangement:
    """12 instalments: the offer allows 2 to 6."""
    return plan(session, account, clock, instalments=12, budget=None)


def extension(session: Session, account: Account, clock: SettableClock) -> Arrangement:
    """Offered only from 1 to 30 days late."""
    return flows.extension(
        session, account, days=10, made_by="debtor", channel="portal", clock=clock
    )


def portfolio(session: Session, clock: SettableClock, *days_late: int) -> list[Account]:
    """Late accounts (¥600 each, ¥300 overdue), decided for DAY0 with a reminder planned."""
    accounts = [late_account(session, clock, days_late=d) for d in days_late]
    strategy_service.run(session, DAY0, clock=clock)
    return accounts


def ask(session: Session, request: Request, account: Account, clock: SettableClock) -> str:
    """One request in its own savepoint, as a batch's caller makes it: 'made' or the refusal."""
    try:
        with session.begin_nested():
            request(session, account, clock)
    except RecoupError as exc:
        return type(exc).__name__
    return "made"


def terms(session: Session, account: Account) -> list[dict[str, Any]]:
    """The account's arrangements and their instalments, without ids."""
    session.expire_all()
    out = []
    for a in session.execute(
        select(Arrangement).where(Arrangement.account_id == account.id).order_by(Arrangement.id)
    ).scalars():
        schedule = session.execute(
            select(
                ArrangementInstalment.seq,
                ArrangementInstalment.due_date,
                ArrangementInstalment.amount_minor,
            )
            .where(ArrangementInstalment.arrangement_id == a.id)
            .order_by(ArrangementInstalment.seq)
        ).all()
        out.append(
            {
                "kind": a.kind,
                "status": a.status,
                "amount_minor": a.amount_minor,
                "balance_minor": a.balance_minor,
                "fee_minor": a.fee_minor,
                "start_date": a.start_date,
                "due_date": a.due_date,
                "grace_days": a.grace_days,
                "terms": a.terms,
                "made_by": a.made_by,
                "schedule": [tuple(i) for i in schedule],
            }
        )
    return out


def rows(session: Session, table: Any, account_ids: set[int]) -> list[dict[str, Any]]:
    assert isinstance(table, Table)
    found = session.execute(select(table).where(table.c.account_id.in_(account_ids))).mappings()
    out = [{k: v for k, v in r.items() if k != "id"} for r in found]
    return sorted(out, key=lambda r: (r["account_id"], r["as_of_date"], r.get("treatment") or ""))


def audit_seq(session: Session) -> int:
    session.flush()
    return int(session.execute(select(func.coalesce(func.max(AuditEvent.seq), 0))).scalar_one())


def redecided(session: Session, account: Account, since: int) -> list[str]:
    """The causes of the account's `strategy.redecided` audit entries after `since`, in order."""
    details = session.execute(
        select(AuditEvent.details)
        .where(
            AuditEvent.action == "strategy.redecided",
            AuditEvent.subject_id == str(account.id),
            AuditEvent.seq > since,
        )
        .order_by(AuditEvent.seq)
    ).scalars()
    return [d["cause"] for d in details]


class TestBatch:
    def test_arrangements_made_in_a_batch_have_the_terms_made_one_by_one(
        self, session: Session, clock: SettableClock
    ) -> None:
        accounts = portfolio(session, clock, 10, 10, 40)
        requests: list[Request] = [promise, plan, settlement]
        ids = {a.id for a in accounts}

        one_by_one = session.begin_nested()
        for request, account in zip(requests, accounts, strict=True):
            request(session, account, clock)
        expected = [terms(session, a) for a in accounts]
        expected_decisions = rows(session, StrategyDecision.__table__, ids)
        expected_contacts = rows(session, ContactPlan.__table__, ids)
        one_by_one.rollback()

        with offers.batch(session, ids, clock=clock):
            outcomes = [
                ask(session, request, account, clock)
                for request, account in zip(requests, accounts, strict=True)
            ]
        assert outcomes == ["made", "made", "made"]
        assert [terms(session, a) for a in accounts] == expected
        assert [[t["kind"] for t in e] for e in expected] == [["promise"], ["plan"], ["settlement"]]
        # Re-decided at the end, the accounts stand where they would have one by one.
        assert rows(session, StrategyDecision.__table__, ids) == expected_decisions
        assert rows(session, ContactPlan.__table__, ids) == expected_contacts
        assert {c["status"] for c in expected_contacts} == {"cancelled"}

    def test_a_refused_request_leaves_the_others_made(
        self, session: Session, clock: SettableClock
    ) -> None:
        promised, too_long, too_late, planned = portfolio(session, clock, 10, 10, 40, 10)
        start = audit_seq(session)
        asked: list[tuple[Request, Account]] = [
            (promise, promised),
            (long_plan, too_long),  # terms outside the offer
            (extension, too_late),  # not offered 40 days late
            (plan, planned),
        ]
        with offers.batch(session, {a.id for _, a in asked}, clock=clock):
            outcomes = [ask(session, request, account, clock) for request, account in asked]

        assert outcomes == ["made", "TermsRefused", "NotOffered", "made"]
        assert [t["kind"] for t in terms(session, promised)] == ["promise"]
        assert [t["kind"] for t in terms(session, planned)] == ["plan"]
        assert terms(session, too_long) == terms(session, too_late) == []
        assert redecided(session, too_long, start) == redecided(session, too_late, start) == []
        assert redecided(session, promised, start) == ["promise made"]
        assert redecided(session, planned, start) == ["plan made"]
        assert decision(session, promised).pause_reason == "promise_pending"
        assert decision(session, planned).pause_reason == "plan_in_good_standing"

    def test_an_account_asking_twice_gets_the_second_refused(
        self, session: Session, clock: SettableClock
    ) -> None:
        [account] = portfolio(session, clock, 10)
        start = audit_seq(session)
        with offers.batch(session, {account.id}, clock=clock):
            assert ask(session, promise, account, clock) == "made"
            with (
                pytest.raises(Conflict, match="already has an arrangement in place"),
                session.begin_nested(),
            ):
                plan(session, account, clock)
            assert ask(session, promise, account, clock) == "Conflict"
        assert [t["kind"] for t in terms(session, account)] == ["promise"]
        assert redecided(session, account, start) == ["promise made"]

    def test_an_accounts_request_after_a_payment_works_its_offers_out_again(
        self, session: Session, clock: SettableClock
    ) -> None:
        """The offers worked out up front serve the account's requests until an event changes it;
        after it, the account's offers are those of the moment (here: nothing, the overdue amount
        has been paid)."""
        [account] = portfolio(session, clock, 10)
        with offers.batch(session, {account.id}, clock=clock):
            assert ask(session, long_plan, account, clock) == "TermsRefused"
            pay(session, clock, account, 30_000, shanghai(DAY0, 17))
            assert ask(session, promise, account, clock) == "NotOffered"
        assert terms(session, account) == []

    def test_an_unchanged_accounts_later_requests_use_the_offers_worked_out_up_front(
        self, session: Session, clock: SettableClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A refused request changes nothing: the account's next requests (the assistant's
        alternatives after a refused promise, the promise the debtor answers them with) use the
        offers the batch worked out, and get what they get on their own. Catches the offers going
        back to being used once (each later request working them out again, ~5 s of a 10-day
        demo's 50)."""
        [account] = portfolio(session, clock, 10)
        alone = session.begin_nested()
        expected = [ask(session, long_plan, account, clock), ask(session, promise, account, clock)]
        alone.rollback()
        assert expected == ["TermsRefused", "made"]

        worked_out: list[set[int]] = []
        offers_many, offers_one = strategy_service.offers_many, strategy_service.offers

        def many(session: Session, account_ids: Any, *, clock: Any) -> Any:
            worked_out.append(set(account_ids))
            return offers_many(session, account_ids, clock=clock)

        def one(session: Session, account_id: int, *, clock: Any) -> Any:
            worked_out.append({account_id})
            return offers_one(session, account_id, clock=clock)

        monkeypatch.setattr(strategy_service, "offers_many", many)
        monkeypatch.setattr(strategy_service, "offers", one)
        with offers.batch(session, {account.id}, clock=clock):
            bounds = offers.offered_bounds(session, account, "plan", clock)
            outcomes = [
                ask(session, long_plan, account, clock),
                ask(session, promise, account, clock),
            ]
            assert worked_out == [{account.id}]  # once, up front, for all three
            # The promise made changed the account (its re-decision is noted): worked out again.
            offers.offered(session, account, clock=clock)
        assert outcomes == expected
        assert worked_out == [{account.id}, {account.id}]
        assert bounds["max_instalments"] == 6
        assert [t["kind"] for t in terms(session, account)] == ["promise"]

    def test_offers_worked_out_up_front_are_not_used_after_an_event_changed_the_account(
        self, session: Session, clock: SettableClock
    ) -> None:
        """Paid in full earlier in the batch: the promise asked for next is refused as it would
        be on its own, not accepted on the offers of the batch's start."""
        [account] = portfolio(session, clock, 10)
        with offers.batch(session, {account.id}, clock=clock):
            pay(session, clock, account, 30_000, shanghai(DAY0, 17))
            assert ask(session, promise, account, clock) == "NotOffered"
        assert terms(session, account) == []

    def test_the_accounts_are_redecided_once_when_the_batch_ends(
        self, session: Session, clock: SettableClock
    ) -> None:
        promised, planned, untouched = portfolio(session, clock, 10, 10, 10)
        before = decision(session, promised)
        assert (before.decision, before.pause_reason) == ("contact", None)
        start = audit_seq(session)
        with offers.batch(session, {promised.id, planned.id, untouched.id}, clock=clock):
            assert ask(session, promise, promised, clock) == "made"
            assert ask(session, plan, planned, clock) == "made"
            session.expire_all()
            # Held back until the end: still the decision of the morning.
            assert decision(session, promised).pause_reason is None
            assert decision(session, planned).pause_reason is None
            assert redecided(session, promised, start) == redecided(session, planned, start) == []
        session.expire_all()
        assert (decision(session, promised).decision, decision(session, promised).pause_reason) == (
            "pause",
            "promise_pending",
        )
        assert decision(session, planned).pause_reason == "plan_in_good_standing"
        assert redecided(session, promised, start) == ["promise made"]
        assert redecided(session, planned, start) == ["plan made"]
        assert redecided(session, untouched, start) == []
        assert decision(session, untouched).pause_reason is None
        # The batch is over: a request re-decides at once again.
        later = late_account(session, clock)
        promise(session, later, clock)
        assert decision(session, later).pause_reason == "promise_pending"

    def test_an_account_noted_several_times_is_redecided_once_for_the_last_event(
        self, session: Session, clock: SettableClock
    ) -> None:
        [account] = portfolio(session, clock, 10)
        start = audit_seq(session)

        def promise_then_pay() -> Arrangement:
            made = promise(session, account, clock)
            pay(session, clock, account, 10_000, shanghai(DAY0, 17))  # keeps the promise
            assert made.status == "kept"
            return made

        alone = session.begin_nested()
        promise_then_pay()
        each_step = redecided(session, account, start)
        alone.rollback()
        assert len(each_step) > 1  # without a batch, every step re-decides
        assert each_step[0] == "promise made"

        with offers.batch(session, {account.id}, clock=clock):
            promise_then_pay()
            assert redecided(session, account, start) == []
        assert redecided(session, account, start) == [each_step[-1]]
        assert decision(session, account).pause_reason is None  # the promise is kept, not pending


def positions(session: Session, accounts: list[Account], clock: SettableClock) -> list[Any]:
    return [offers.position(session, a, clock=clock) for a in accounts]


class TestFiguresReadUpFront:
    """On SQLite a batch reads its accounts' bills, allocations and open arrangements up front
    (`offers.batch`): what `position` counts and `offered_bounds` refuses, the same figures as
    read one by one, until the account changes."""

    @pytest.fixture
    def reads(self, session: Session, monkeypatch: pytest.MonkeyPatch) -> list[int]:
        """The accounts whose bills or open arrangement are read one at a time."""
        read: list[int] = []
        unpaid, open_for = repository.unpaid_components, ArrangementRepository.open_for_account

        def one_unpaid(session: Session, account_id: int, **kw: Any) -> Any:
            read.append(account_id)
            return unpaid(session, account_id, **kw)

        def one_open(self: ArrangementRepository, account_id: int) -> Any:
            read.append(account_id)
            return open_for(self, account_id)

        monkeypatch.setattr(repository, "unpaid_components", one_unpaid)
        monkeypatch.setattr(ArrangementRepository, "open_for_account", one_open)
        return read

    def test_an_unchanged_accounts_figures_are_read_once_up_front(
        self, session: Session, clock: SettableClock, reads: list[int]
    ) -> None:
        """Catches the up-front read going (each request reading its account's bills and
        arrangement again: the assistant's answers, a refused request and the next)."""
        if session.get_bind().dialect.name != "sqlite":
            pytest.skip("PostgreSQL reads after the account's lock, one by one")
        first, other, cased = portfolio(session, clock, 10, 10, 40)
        expected = positions(session, [first, other, cased], clock)
        reads.clear()
        with offers.batch(session, {first.id, other.id}, clock=clock, positions_of={cased.id}):
            assert positions(session, [first, other, cased], clock) == expected
            assert ask(session, long_plan, first, clock) == "TermsRefused"
            assert offers.offered_bounds(session, first, "promise", clock)["max_days"] > 0
            assert reads == []
            assert ask(session, promise, first, clock) == "made"  # the account changed
            reads.clear()
            assert positions(session, [first, other, cased], clock) == expected
            assert reads == [first.id]  # read afresh; the others still held
            assert ask(session, promise, first, clock) == "Conflict"

    def test_postgresql_reads_each_accounts_figures_after_its_lock(
        self, session: Session, clock: SettableClock, reads: list[int]
    ) -> None:
        """Another transaction may write between the batch's start and a request's lock."""
        if session.get_bind().dialect.name == "sqlite":
            pytest.skip("SQLite's transactions hold the write lock from their start")
        [account] = portfolio(session, clock, 10)
        with offers.batch(session, {account.id}, clock=clock):
            assert ask(session, promise, account, clock) == "made"
        assert reads == [account.id, account.id]

    def test_an_arrangement_written_without_an_event_is_seen(
        self, session: Session, clock: SettableClock
    ) -> None:
        """An arrangement flushed for the account, with no re-decision noted, ends the held
        figures. Catches the flush's listener (`_forget_flushed`) going."""
        [account] = portfolio(session, clock, 10)
        with offers.batch(session, {account.id}, clock=clock):
            promise(session, account, clock)
            session.info[DEFERRED].clear()  # its re-decision's note gone: only the flush says
            with pytest.raises(Conflict, match="already has an arrangement in place"):
                offers.offered_bounds(session, account, "promise", clock)

    def test_a_bill_changed_in_the_session_is_counted(
        self, session: Session, clock: SettableClock
    ) -> None:
        """A bill changed and flushed (no re-decision noted) is counted, as a query would count
        it. Catches the flush's listener (`_forget_flushed`) going."""
        [account] = portfolio(session, clock, 10)
        [before] = positions(session, [account], clock)
        with offers.batch(session, {account.id}, clock=clock):
            assert positions(session, [account], clock) == [before]  # the figures read
            bill = session.execute(select(Bill).where(Bill.account_id == account.id)).scalars()
            first = next(iter(bill))
            first.principal_minor += 5_000
            session.flush()
            [after] = positions(session, [account], clock)
        assert after.owed == before.owed + 5_000

    def test_bills_written_by_a_statement_are_counted(
        self, session: Session, clock: SettableClock
    ) -> None:
        """An ORM UPDATE of bills (whose accounts are unknown) ends every held figure. Catches
        the statement's listener (`_forget_written`) going."""
        [account] = portfolio(session, clock, 10)
        [before] = positions(session, [account], clock)
        with offers.batch(session, {account.id}, clock=clock):
            assert positions(session, [account], clock) == [before]  # the figures read
            session.execute(
                update(Bill)
                .where(Bill.account_id == account.id)
                .values(principal_minor=Bill.principal_minor + 5_000)
            )
            [after] = positions(session, [account], clock)
        bills = session.execute(select(func.count()).where(Bill.account_id == account.id))
        assert after.owed == before.owed + 5_000 * bills.scalar_one()

    def test_a_change_written_past_the_orm_is_seen_by_its_event(
        self, session: Session, clock: SettableClock
    ) -> None:
        """A change written past the ORM (the driver's own statement, as the ledger's set-wise
        writes are) neither flushes nor runs an ORM statement: the re-decision its event notes
        is what ends the held figures. Catches the note's check (`redecision_pending` in
        `offers._held`) going (tried: the position stays the batch start's)."""
        [account] = portfolio(session, clock, 10)
        [before] = positions(session, [account], clock)
        with offers.batch(session, {account.id}, clock=clock):
            assert positions(session, [account], clock) == [before]  # the figures read
            session.connection().exec_driver_sql(
                "UPDATE bills SET principal_minor = principal_minor + 5000"
                f" WHERE account_id = {int(account.id)}"
            )
            strategy_service.redecide(session, account.id, clock=clock, cause="payment")
            [after] = positions(session, [account], clock)
        bills = session.execute(select(func.count()).where(Bill.account_id == account.id))
        assert after.owed == before.owed + 5_000 * bills.scalar_one()

    def test_a_batch_that_asks_nothing_reads_nothing(
        self, session: Session, clock: SettableClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The figures are read at the first ask, for every account still unchanged, once: a
        batch of complaints alone (no position, no offer asked) reads no bills. Catches the read
        going back to the batch's start."""
        if session.get_bind().dialect.name != "sqlite":
            pytest.skip("PostgreSQL reads after the account's lock, one by one")
        first, other = portfolio(session, clock, 10, 10)
        read: list[set[int]] = []
        many = repository.unpaid_components_many

        def reading(session: Session, account_ids: Any) -> Any:
            read.append(set(account_ids))
            return many(session, account_ids)

        monkeypatch.setattr(repository, "unpaid_components_many", reading)
        with offers.batch(session, set(), clock=clock, positions_of={first.id, other.id}):
            pass
        assert read == []
        with offers.batch(session, set(), clock=clock, positions_of={first.id, other.id}):
            positions(session, [first, other, first], clock)
        assert read == [{first.id, other.id}]
