"""`record_many` appends several audit entries under one lock of the head: chained in order with
consecutive numbers, as if recorded one by one, and checkpointed when they cross the interval."""

from __future__ import annotations

import datetime as dt
import gc
import itertools

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from recoup.audit import ledger
from recoup.audit import service as audit_service
from recoup.kit.clock import SettableClock
from recoup.models.audit import AuditCheckpoint, AuditEvent, AuditHead
from tests.audit.test_ledger import unlock
from tests.conftest import AUDIT_SIGNER


def entries(n: int, action: str = "account.noted") -> list[audit_service.Entry]:
    return [
        audit_service.Entry(
            actor="event",
            action=action,
            subject_type="account",
            subject_id=100 + i,
            before={"step": i},
            after={"step": i + 1},
            details={"n": i},
        )
        for i in range(n)
    ]


def head(session: Session) -> AuditHead:
    session.flush()
    row = session.get(AuditHead, 1)
    assert row is not None
    return row


def chain(session: Session, since: int) -> list[AuditEvent]:
    return list(
        session.execute(
            select(AuditEvent).where(AuditEvent.seq > since).order_by(AuditEvent.seq)
        ).scalars()
    )


def checkpoints(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(AuditCheckpoint)).scalar_one())


class TestRecordMany:
    def test_entries_are_chained_in_order_with_consecutive_numbers(
        self, session: Session, clock: SettableClock
    ) -> None:
        audit_service.record(
            session,
            actor="staff:lin",
            action="policy.activated",
            subject_type="policy",
            subject_id=1,
            clock=clock,
        )
        tip = head(session)
        start, start_hash = tip.seq, tip.hash

        written = audit_service.record_many(session, entries(4), clock=clock)

        assert [e.seq for e in written] == [start + 1, start + 2, start + 3, start + 4]
        assert [e.subject_id for e in written] == ["100", "101", "102", "103"]
        assert written[0].prev_hash == start_hash
        for before, after in itertools.pairwise(written):
            assert after.prev_hash == before.hash
        assert {e.at for e in written} == {clock.now()}
        assert written[2].before_hash == ledger.state_hash({"step": 2})
        assert written[2].after_hash == ledger.state_hash({"step": 3})
        assert written[2].details == {"n": 2}
        assert (head(session).seq, head(session).hash) == (written[-1].seq, written[-1].hash)
        assert [e.hash for e in chain(session, start)] == [e.hash for e in written]
        result = audit_service.verify(session)
        assert result.ok, result.problems

    def test_the_hashes_are_real_a_changed_entry_is_named(
        self, session: Session, clock: SettableClock
    ) -> None:
        written = audit_service.record_many(session, entries(3), clock=clock)
        unlock(session)
        session.execute(
            text("UPDATE audit_events SET actor = 'staff:mallory' WHERE seq = :s"),
            {"s": written[1].seq},
        )
        session.expire_all()
        result = audit_service.verify(session)
        assert result.first_broken is not None
        assert result.first_broken.seq == written[1].seq

    def test_mixing_record_and_record_many_keeps_the_chain_valid(
        self, session: Session, clock: SettableClock
    ) -> None:
        start = head(session).seq

        def one(i: int) -> audit_service.Appended:
            clock.advance(dt.timedelta(seconds=1))
            return audit_service.record(
                session,
                actor="staff:lin",
                action="policy.activated",
                subject_type="policy",
                subject_id=i,
                clock=clock,
                details={"i": i},
            )

        first = one(1)
        clock.advance(dt.timedelta(seconds=1))
        batch = audit_service.record_many(session, entries(3), clock=clock)
        middle = one(2)
        assert audit_service.record_many(session, [], clock=clock) == []
        last = one(3)

        written = [first, *batch, middle, last]
        assert [e.seq for e in chain(session, start)] == list(range(start + 1, start + 7))
        assert [e.hash for e in chain(session, start)] == [e.hash for e in written]
        for before, after in itertools.pairwise(written):
            assert after.prev_hash == before.hash
        result = audit_service.verify(session)
        assert result.ok, result.problems


class TestCheckpointing:
    def test_a_batch_that_reaches_the_interval_is_checkpointed_once_at_its_end(
        self, session: Session, clock: SettableClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        audit_service.record_many(session, entries(1), clock=clock)
        audit_service.checkpoint(session, clock=clock)  # nothing pending from here on
        assert head(session).checkpointed_seq == head(session).seq
        made = checkpoints(session)
        monkeypatch.setattr(audit_service, "_policy", audit_service.CheckpointPolicy(entries=5))

        under = audit_service.record_many(session, entries(3), clock=clock)
        assert checkpoints(session) == made  # 3 pending: not yet

        over = audit_service.record_many(session, entries(2, "account.more"), clock=clock)
        assert checkpoints(session) == made + 1
        latest = session.execute(
            select(AuditCheckpoint).order_by(AuditCheckpoint.last_seq.desc()).limit(1)
        ).scalar_one()
        assert (latest.first_seq, latest.last_seq) == (under[0].seq, over[-1].seq)
        assert latest.root == ledger.merkle_root([e.hash for e in [*under, *over]])
        message = ledger.statement(latest.first_seq, latest.last_seq, latest.root, latest.prev_root)
        assert ledger.signature_valid(AUDIT_SIGNER.public, message, latest.signature)
        assert head(session).checkpointed_seq == over[-1].seq
        result = audit_service.verify(session)
        assert result.ok, result.problems


class TestTheTailsAge:
    def test_appends_in_one_transaction_read_the_oldest_pending_entry_once(
        self, session: Session, clock: SettableClock
    ) -> None:
        """Every append asks how old the tail's oldest entry is (the checkpoint's minutes); the
        entry never changes, so one transaction reads it once, not once per append. Catches
        `repository.at_of` going back to a query per call (1,000 reads in a demo's slot of
        replies, ~2 % of the simulated days)."""
        audit_service.record_many(session, entries(1), clock=clock)
        audit_service.checkpoint(session, clock=clock)  # nothing pending from here on
        first = audit_service.record(
            session, actor="e", action="a.b", subject_type="t", subject_id=1, clock=clock
        ).seq
        session.flush()
        # As a later transaction finds it: not in the session (no object of it left alive, as
        # nothing of a slot's work holds the entries it appended).
        session.expunge_all()
        gc.collect()
        reads: list[str] = []

        def note(conn: object, cursor: object, statement: str, *args: object) -> None:
            if "FROM audit_events" in statement and "audit_events.seq =" in statement:
                reads.append(statement)

        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", note)
        try:
            for i in range(20):
                clock.advance(dt.timedelta(seconds=1))
                audit_service.record(
                    session, actor="e", action="a.b", subject_type="t", subject_id=i, clock=clock
                )
        finally:
            event.remove(engine, "before_cursor_execute", note)
        assert len(reads) == 1, reads
        assert head(session).checkpointed_seq == first - 1  # not due: 21 entries, 20 s
        # The policy still reads the right age: past the minutes, the next append checkpoints.
        clock.advance(dt.timedelta(minutes=audit_service.CHECKPOINT_MINUTES))
        audit_service.record(
            session, actor="e", action="a.b", subject_type="t", subject_id=0, clock=clock
        )
        assert head(session).checkpointed_seq == head(session).seq

    def test_a_tail_entry_a_rolled_back_savepoint_appended_is_not_taken_for_the_next(
        self, session: Session, clock: SettableClock
    ) -> None:
        """Entries are written by one INSERT, so a savepoint rolled back leaves no object of
        them for the session to drop; the tail's oldest entry that `at_of` read in it would
        answer for the entry written next under the same number, and the tail's age would be
        the rolled-back entry's. Catches `repository._forget_rolled_back_tail` removed: the
        append below then checkpoints 61 minutes after the rolled-back entry, 2 minutes after
        the entry that is there."""
        audit_service.record_many(session, entries(1), clock=clock)
        audit_service.checkpoint(session, clock=clock)  # nothing pending from here on
        try:
            with session.begin_nested():
                audit_service.record(  # the tail's oldest: `at_of` reads it, at the append
                    session, actor="e", action="a.b", subject_type="t", subject_id=1, clock=clock
                )
                raise RuntimeError("refused")
        except RuntimeError:
            pass
        clock.advance(dt.timedelta(minutes=audit_service.CHECKPOINT_MINUTES - 1))
        first = audit_service.record(
            session, actor="e", action="a.b", subject_type="t", subject_id=2, clock=clock
        )
        clock.advance(dt.timedelta(minutes=2))
        audit_service.record(
            session, actor="e", action="a.b", subject_type="t", subject_id=3, clock=clock
        )
        assert head(session).checkpointed_seq == first.seq - 1  # 2 minutes old: not due
        assert [e.subject_id for e in chain(session, first.seq - 1)] == ["2", "3"]
        assert audit_service.verify(session).ok


def head_locks(session: Session) -> tuple[list[str], object]:
    """The statements that read the head (its lock), noted while the returned listener runs."""
    reads: list[str] = []

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "FROM audit_head" in statement:
            reads.append(statement)

    event.listen(session.get_bind(), "before_cursor_execute", note)
    return reads, note


class TestTheHeadLockedOnce:
    """A transaction locks the head once and appends under that lock, in it and in the
    savepoints inside it; the chain is what one lock per append made."""

    def test_appends_in_one_transaction_and_its_savepoints_lock_the_head_once(
        self, session: Session, clock: SettableClock
    ) -> None:
        """Catches `repository.head` going back to a locking read per append (a slot's replies
        append ~1,000 entries, each asking again)."""
        audit_service.record_many(session, entries(1), clock=clock)
        start = head(session).seq
        reads, note = head_locks(session)
        try:
            for i in range(5):
                audit_service.record(
                    session, actor="e", action="a.b", subject_type="t", subject_id=i, clock=clock
                )
                with session.begin_nested():
                    audit_service.record(
                        session,
                        actor="e",
                        action="a.c",
                        subject_type="t",
                        subject_id=i,
                        clock=clock,
                    )
        finally:
            event.remove(session.get_bind(), "before_cursor_execute", note)
        assert reads == []
        got = chain(session, start)
        assert [e.seq for e in got] == list(range(start + 1, start + 11))
        assert head(session).seq == start + 10
        assert head(session).hash == got[-1].hash
        assert audit_service.verify(session).ok

    def test_a_savepoint_that_took_the_lock_and_rolled_back_leaves_the_next_append_to_lock_again(
        self, session: Session, clock: SettableClock
    ) -> None:
        """The lock a rolled-back savepoint took is gone (PostgreSQL releases it): the next append
        locks the head again, and chains after what is left. Catches `_held` trusting a lock
        whatever became of the transaction that took it (remove the walk up the transactions and
        this fails: no second lock)."""
        audit_service.record_many(session, entries(1), clock=clock)
        session.commit()  # a new transaction: nothing locked yet
        start = head(session).seq
        session.commit()
        reads, note = head_locks(session)
        try:
            try:
                with session.begin_nested():
                    audit_service.record_many(session, entries(3), clock=clock)
                    raise RuntimeError("refused")
            except RuntimeError:
                pass
            audit_service.record(
                session, actor="e", action="a.b", subject_type="t", subject_id=1, clock=clock
            )
        finally:
            event.remove(session.get_bind(), "before_cursor_execute", note)
        assert len(reads) == 2, reads
        got = chain(session, start)
        assert [e.seq for e in got] == [start + 1]
        assert audit_service.verify(session).ok

    def test_a_savepoint_that_took_the_lock_and_was_released_hands_it_to_the_transaction(
        self, session: Session, clock: SettableClock
    ) -> None:
        """A released savepoint's lock is its parent's (RELEASE SAVEPOINT keeps it): each
        reply of a slot runs in a savepoint of its own, and the slot locks the head once.
        Catches `_savepoint_released` not handing the lock on (remove its listener and the
        later savepoints lock again)."""
        audit_service.record_many(session, entries(1), clock=clock)
        session.commit()
        start = head(session).seq
        session.commit()
        reads, note = head_locks(session)
        try:
            for i in range(4):
                with session.begin_nested():
                    audit_service.record(
                        session,
                        actor="e",
                        action="a.b",
                        subject_type="t",
                        subject_id=i,
                        clock=clock,
                    )
            audit_service.record_many(session, entries(2), clock=clock)
        finally:
            event.remove(session.get_bind(), "before_cursor_execute", note)
        assert len(reads) == 1, reads
        assert [e.seq for e in chain(session, start)] == list(range(start + 1, start + 7))
        assert audit_service.verify(session).ok

    def test_an_object_no_longer_in_the_session_is_not_appended_under(
        self, session: Session, clock: SettableClock
    ) -> None:
        """An expunged head would take the tip's move nowhere: it is read again."""
        audit_service.record_many(session, entries(1), clock=clock)
        session.flush()
        session.expunge_all()
        audit_service.record_many(session, entries(2), clock=clock)
        session.flush()
        assert head(session).hash == chain(session, 0)[-1].hash
        assert audit_service.verify(session).ok
