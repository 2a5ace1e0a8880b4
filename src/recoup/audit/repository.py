"""All of the audit package's SQL: the ledger's head, entries and checkpoints, the data-access
log, and the independent contact audit's reads of what was sent. Only this module writes `audit_events`, `audit_head`, `audit_checkpoints` and
`data_access_log` (tests/test_ownership.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import polars as pl
from sqlalchemy import event, func, insert, inspect, or_, select
from sqlalchemy.orm import Session, SessionTransaction

from recoup.audit import contact_rules
from recoup.models import (
    Account,
    ContactEvent,
    ContactPlan,
    ContactStatus,
    Customer,
    DelinquencyPause,
    OptOut,
    Product,
)
from recoup.models.audit import AuditCheckpoint, AuditEvent, AuditHead, DataAccess
from recoup.models.contact import QUEUE_ENTRY

GENESIS = "0" * 64
SENT = (ContactStatus.sent, ContactStatus.delivered)


def head(session: Session, *, lock: bool = True) -> AuditHead:
    """The chain's tip, locked for this transaction (appenders serialise on it); created empty
    the first time.

    Once locked, the row is this transaction's until it ends: no other appender can move it, and
    this session's own appends move the object it holds. So a later `head` in the same
    transaction, or in a savepoint begun inside it, takes the row it locked without asking again
    (a slot's thousand appends lock once). A savepoint that took the lock and was released hands
    it to the transaction around it (`_savepoint_released`); one rolled back releases it
    (PostgreSQL drops a row lock taken after the savepoint), and the next `head` asks again."""
    if lock and (held := _held(session)) is not None:
        return held
    stmt = select(AuditHead).where(AuditHead.id == 1)
    if lock:  # the row as it is once locked, not as an earlier read of this session saw it
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    row = session.execute(stmt).scalar_one_or_none()
    if row is None:
        row = AuditHead(id=1, seq=0, hash=GENESIS, checkpointed_seq=0)
        session.add(row)
        session.flush()
    if lock:
        session.info[_HEAD_LOCK] = (_innermost(session), row)
        if not session.info.get(_HEAD_LISTENING):
            event.listen(session, "after_commit", _savepoint_released)
            session.info[_HEAD_LISTENING] = True
    return row


_HEAD_LOCK = "audit.head_lock"
_HEAD_LISTENING = "audit.head_lock_listening"


def _savepoint_released(session: Session) -> None:
    """A savepoint released keeps the locks taken in it, now its parent's (PostgreSQL's RELEASE
    SAVEPOINT): the head a released savepoint locked stays held by the transaction around it.
    SQLAlchemy calls this as a savepoint or a transaction commits, before it ends."""
    held: tuple[SessionTransaction | None, AuditHead] | None = session.info.get(_HEAD_LOCK)
    committing = session.get_nested_transaction()
    if held is not None and committing is not None and held[0] is committing:
        session.info[_HEAD_LOCK] = (committing.parent, held[1])


def _innermost(session: Session) -> SessionTransaction | None:
    return session.get_nested_transaction() or session.get_transaction()


def _held(session: Session) -> AuditHead | None:
    """The head this session locked, when the transaction that locked it is the one running or
    one it runs inside (and still active)."""
    held: tuple[SessionTransaction | None, AuditHead] | None = session.info.get(_HEAD_LOCK)
    if held is None:
        return None
    locker, row = held
    current = _innermost(session)
    while current is not None:
        if current is locker:
            return row if locker.is_active and row in session else None
        current = current.parent
    return None


def peek_head(session: Session) -> AuditHead | None:
    """The tip as it stands, without locking or creating it (verification reads it)."""
    return session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one_or_none()


def append(session: Session, tip: AuditHead, entries: Sequence[dict[str, Any]]) -> None:
    """Add entries (their fields, `hash` included, already chained) and move the tip to the last.

    One INSERT of every row (executemany), not an ORM object each: entries are never changed
    once written, so the session has nothing to track in them (half an entry's cost went to
    making and flushing the objects)."""
    if entries:
        _forget_rolled_back_tail(session, entries[0]["seq"])
        session.execute(insert(AuditEvent), list(entries))
        tip.seq, tip.hash = entries[-1]["seq"], entries[-1]["hash"]
    session.flush()


def _forget_rolled_back_tail(session: Session, first: int) -> None:
    """The tail entry `at_of` keeps, when its number is being written again: a savepoint rolled
    back took that entry away (rows written by INSERT leave no object for the rollback to
    remove from the session), and the session's copy would answer for the new one."""
    held: AuditEvent | None = session.info.get(_TAIL_ENTRY)
    if held is None:
        return
    key = inspect(held).identity  # its number, without loading it (it may be expired and gone)
    if key is not None and key[0] >= first:
        session.info.pop(_TAIL_ENTRY)
        if held in session:
            session.expunge(held)


def hashes_between(session: Session, first: int, last: int) -> list[str]:
    return list(
        session.execute(
            select(AuditEvent.hash)
            .where(AuditEvent.seq >= first, AuditEvent.seq <= last)
            .order_by(AuditEvent.seq)
        ).scalars()
    )


def at_of(session: Session, seq: int) -> dt.datetime | None:
    """When entry `seq` was written (None when there is no such entry). Entries never change, so
    the session's copy serves once it holds the entry (appended or read in this transaction; an
    entry a rolled-back savepoint appended leaves the session with it): `record` asks this of the
    tail's oldest entry at every append, and a batch of a thousand appends reads it once. The
    session's identity map holds objects weakly: the entry is kept referenced in `session.info`
    so that it stays there (the reference alone never answers: `get` does)."""
    event = session.get(AuditEvent, seq)
    session.info[_TAIL_ENTRY] = event
    return event.at if event is not None else None


_TAIL_ENTRY = "audit.tail_entry"


def last_checkpoint(session: Session) -> AuditCheckpoint | None:
    return session.execute(
        select(AuditCheckpoint).order_by(AuditCheckpoint.last_seq.desc()).limit(1)
    ).scalar_one_or_none()


def add_checkpoint(session: Session, tip: AuditHead, **fields: Any) -> AuditCheckpoint:
    row = AuditCheckpoint(**fields)
    session.add(row)
    tip.checkpointed_seq = row.last_seq
    session.flush()
    return row


def entries_after(session: Session, seq: int, *, limit: int) -> list[AuditEvent]:
    return list(
        session.execute(
            select(AuditEvent).where(AuditEvent.seq > seq).order_by(AuditEvent.seq).limit(limit)
        )
        .scalars()
        .all()
    )


def checkpoints(session: Session) -> list[AuditCheckpoint]:
    return list(
        session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.last_seq)).scalars()
    )


def add_access(session: Session, **fields: Any) -> DataAccess:
    row = DataAccess(**fields)
    session.add(row)
    session.flush()
    return row


def access_log(session: Session, customer_id: int) -> list[DataAccess]:
    return list(
        session.execute(
            select(DataAccess)
            .where(DataAccess.customer_id == customer_id)
            .order_by(DataAccess.at, DataAccess.id)
        ).scalars()
    )


def of_subject(
    session: Session, *, action: str, subject_type: str, subject_id: str
) -> list[AuditEvent]:
    """The entries of one action about one subject, oldest first."""
    e = AuditEvent
    stmt = (
        select(e)
        .where(e.action == action, e.subject_type == subject_type, e.subject_id == subject_id)
        .order_by(e.seq)
    )
    return list(session.execute(stmt).scalars())


def since(session: Session, after: dt.datetime) -> list[AuditEvent]:
    return list(
        session.execute(
            select(AuditEvent).where(AuditEvent.at > after).order_by(AuditEvent.seq)
        ).scalars()
    )


# The independent contact audit's reads (`recoup audit contacts`). They read contact's and
# delinquency's tables here rather than through those packages' repositories on purpose: the
# audit shares no code with what it checks.


def sent_contacts(session: Session, lo: dt.datetime | None, hi: dt.datetime | None) -> pl.DataFrame:
    """What left between `lo` and `hi` (`recoup.audit.contacts` says what counts as sent)."""
    c, a, p, u, e = ContactPlan, Account, Product, Customer, ContactEvent
    left = select(e.contact_id, func.min(e.at).label("at")).where(e.status.in_(SENT))
    if lo is not None:
        left = left.where(e.at >= lo - dt.timedelta(days=1))
    events = left.group_by(e.contact_id).subquery()
    sent_at = func.coalesce(c.sent_at, events.c.at)
    stmt = (
        select(
            c.id,
            c.customer_id,
            c.account_id,
            c.channel,
            c.purpose,
            c.status,
            sent_at,
            c.address_index,
            a.collector,
            a.product_code,
            p.timezone,
            u.jurisdiction,
            u.timezones,
            c.result,
        )
        .join(a, a.id == c.account_id)
        .join(p, p.code == a.product_code)
        .join(u, u.id == c.customer_id)
        .outerjoin(events, events.c.contact_id == c.id)
        .where(or_(c.status.in_(SENT), events.c.contact_id.is_not(None)))
        # A "call" contact puts the account in the agents' queue: nobody is rung until an agent
        # dials (a "dial" contact, which is audited). The queue entry is no contact with anyone.
        .where(c.channel != QUEUE_ENTRY)
    )
    if lo is not None:
        stmt = stmt.where(sent_at >= lo)
    if hi is not None:
        stmt = stmt.where(sent_at < hi)
    rows = [tuple(r) for r in session.execute(stmt)]
    return pl.DataFrame(rows, schema=contact_rules.SENT, orient="row")


def opt_outs(session: Session) -> pl.DataFrame:
    o = OptOut
    stmt = select(o.customer_id, o.channel, o.address_index, o.source, o.created_at, o.withdrawn_at)
    rows = [tuple(r) for r in session.execute(stmt)]
    return pl.DataFrame(rows, schema=contact_rules.OPT_OUTS, orient="row")


def rule_pauses(session: Session) -> pl.DataFrame:
    """The pauses that stand for a dispute, a hardship review or a cease (the others, such as a
    payment plan's, are the policy's choice rather than a rule)."""
    d = DelinquencyPause
    stmt = select(
        d.account_id, d.kind, d.reason, d.start_date, d.end_date, d.created_at, d.cancelled_at
    ).where(d.kind.in_(list(contact_rules.PAUSE_FLAGS)))
    rows = [tuple(r) for r in session.execute(stmt)]
    return pl.DataFrame(rows, schema=contact_rules.PAUSES, orient="row")
