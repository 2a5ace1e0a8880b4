"""All of the audit package's SQL: the ledger's head, entries and checkpoints, and the data-access
log. Only this module writes `audit_events`, `audit_head`, `audit_checkpoints` and
`data_access_log` (tests/test_ownership.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from recoup.models.audit import AuditCheckpoint, AuditEvent, AuditHead, DataAccess

GENESIS = "0" * 64


def head(session: Session, *, lock: bool = True) -> AuditHead:
    """The chain's tip, locked for this transaction (appenders serialise on it); created empty
    the first time."""
    stmt = select(AuditHead).where(AuditHead.id == 1)
    if lock:  # the row as it is once locked, not as an earlier read of this session saw it
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    row = session.execute(stmt).scalar_one_or_none()
    if row is None:
        row = AuditHead(id=1, seq=0, hash=GENESIS, checkpointed_seq=0)
        session.add(row)
        session.flush()
    return row


def peek_head(session: Session) -> AuditHead | None:
    """The tip as it stands, without locking or creating it (verification reads it)."""
    return session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one_or_none()


def append(session: Session, tip: AuditHead, entries: Sequence[dict[str, Any]]) -> list[AuditEvent]:
    """Add entries (their fields, `hash` included, already chained) and move the tip to the last."""
    events = [AuditEvent(**fields) for fields in entries]
    session.add_all(events)
    if events:
        tip.seq, tip.hash = events[-1].seq, events[-1].hash
    session.flush()
    return events


def hashes_between(session: Session, first: int, last: int) -> list[str]:
    return list(
        session.execute(
            select(AuditEvent.hash)
            .where(AuditEvent.seq >= first, AuditEvent.seq <= last)
            .order_by(AuditEvent.seq)
        ).scalars()
    )


def at_of(session: Session, seq: int) -> dt.datetime | None:
    """When entry `seq` was written (None when there is no such entry)."""
    return session.execute(select(AuditEvent.at).where(AuditEvent.seq == seq)).scalar_one_or_none()


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


def since(session: Session, after: dt.datetime) -> list[AuditEvent]:
    return list(
        session.execute(
            select(AuditEvent).where(AuditEvent.at > after).order_by(AuditEvent.seq)
        ).scalars()
    )
