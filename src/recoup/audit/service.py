"""The audit ledger: record, checkpoint, verify; and the data-access log customers can read.

`record` runs inside the caller's transaction, so an audited change and its entry commit or roll back
together. Appenders lock the head row; entries therefore get consecutive numbers in commit order and
each names the hash of the one before. Every `checkpoint_every` entries (and whenever asked), a
checkpoint signs the Merkle root of the entries since the last one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from recoup.audit import ledger
from recoup.kit.clock import Clock
from recoup.kit.errors import ConfigurationError
from recoup.models.audit import AuditCheckpoint, AuditEvent, AuditHead, DataAccess

CHECKPOINT_EVERY = 1000


@dataclass
class Signer:
    private: Ed25519PrivateKey
    trusted: list[Ed25519PublicKey] = field(default_factory=list)

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    def verifier(self, key_id: str) -> Ed25519PublicKey | None:
        for key in [self.public, *self.trusted]:
            if ledger.key_id(key) == key_id:
                return key
        return None


_signer: Signer | None = None


def install_signer(signer: Signer) -> None:
    global _signer
    _signer = signer


def signer() -> Signer:
    if _signer is None:
        raise ConfigurationError(
            "no audit signing key installed; run `recoup init` or configure one"
        )
    return _signer


def _head(session: Session) -> AuditHead:
    head = session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=ledger.GENESIS, checkpointed_seq=0)
        session.add(head)
        session.flush()
    return head


@dataclass(frozen=True)
class Entry:
    """One entry to append (`record`'s arguments without the session and the clock)."""

    actor: str
    action: str
    subject_type: str
    subject_id: str | int
    before: Any = None
    after: Any = None
    details: dict[str, Any] | None = None


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str | int,
    clock: Clock,
    before: Any = None,
    after: Any = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one entry. `before`/`after` are plain-value states; only their hashes are kept.
    `details` must hold no personal data (ids, codes, counts, reasons)."""
    entry = Entry(actor, action, subject_type, subject_id, before, after, details)
    return record_many(session, [entry], clock=clock)[0]


def record_many(session: Session, entries: list[Entry], *, clock: Clock) -> list[AuditEvent]:
    """Append several entries, chained in order, under one lock of the head (a batch of events
    handled in one transaction)."""
    if not entries:
        return []
    head = _head(session)
    at = clock.now()
    events: list[AuditEvent] = []
    for entry in entries:
        fields: dict[str, Any] = {
            "seq": head.seq + 1,
            "at": at,
            "actor": entry.actor,
            "action": entry.action,
            "subject_type": entry.subject_type,
            "subject_id": str(entry.subject_id),
            "before_hash": ledger.state_hash(entry.before),
            "after_hash": ledger.state_hash(entry.after),
            "details": entry.details or {},
            "prev_hash": head.hash,
        }
        event = AuditEvent(**fields, hash=ledger.entry_hash(**fields))
        events.append(event)
        head.seq, head.hash = event.seq, event.hash
    session.add_all(events)
    session.flush()
    if head.seq - head.checkpointed_seq >= CHECKPOINT_EVERY and _signer is not None:
        checkpoint(session, clock=clock)
    return events


def checkpoint(session: Session, *, clock: Clock) -> AuditCheckpoint | None:
    """Sign the Merkle root of the entries since the last checkpoint (None when there are none)."""
    head = _head(session)
    if head.seq == head.checkpointed_seq:
        return None
    hashes = list(
        session.execute(
            select(AuditEvent.hash)
            .where(AuditEvent.seq > head.checkpointed_seq, AuditEvent.seq <= head.seq)
            .order_by(AuditEvent.seq)
        ).scalars()
    )
    previous = session.execute(
        select(AuditCheckpoint).order_by(AuditCheckpoint.last_seq.desc()).limit(1)
    ).scalar_one_or_none()
    prev_root = previous.root if previous else ledger.GENESIS
    root = ledger.merkle_root(hashes)
    active = signer()
    row = AuditCheckpoint(
        first_seq=head.checkpointed_seq + 1,
        last_seq=head.seq,
        root=root,
        prev_root=prev_root,
        signed_at=clock.now(),
        key_id=ledger.key_id(active.public),
        signature=ledger.sign(
            active.private, ledger.statement(head.checkpointed_seq + 1, head.seq, root, prev_root)
        ),
    )
    session.add(row)
    head.checkpointed_seq = head.seq
    session.flush()
    return row


@dataclass(frozen=True)
class Problem:
    seq: int
    what: str

    def __str__(self) -> str:
        return f"entry {self.seq}: {self.what}"


@dataclass
class Verification:
    entries: int = 0
    checkpoints: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_broken(self) -> Problem | None:
        return min(self.problems, key=lambda p: p.seq) if self.problems else None


def verify(session: Session, *, batch: int = 10_000) -> Verification:
    """Recompute every entry's hash and link, and every checkpoint's root and signature."""
    result = Verification()
    expected_seq, prev = 1, ledger.GENESIS
    hashes: dict[int, str] = {}
    last = 0
    while True:
        rows = (
            session.execute(
                select(AuditEvent)
                .where(AuditEvent.seq > last)
                .order_by(AuditEvent.seq)
                .limit(batch)
            )
            .scalars()
            .all()
        )
        if not rows:
            break
        for e in rows:
            if e.seq != expected_seq:
                result.problems.append(Problem(expected_seq, f"missing (next present is {e.seq})"))
                expected_seq = e.seq
            recomputed = ledger.entry_hash(
                seq=e.seq,
                at=e.at,
                actor=e.actor,
                action=e.action,
                subject_type=e.subject_type,
                subject_id=e.subject_id,
                before_hash=e.before_hash,
                after_hash=e.after_hash,
                details=e.details,
                prev_hash=e.prev_hash,
            )
            if recomputed != e.hash:
                result.problems.append(Problem(e.seq, "contents changed (hash does not match)"))
            if e.prev_hash != prev:
                result.problems.append(
                    Problem(e.seq, "does not follow the entry before it (chain broken)")
                )
            prev = e.hash
            hashes[e.seq] = e.hash
            expected_seq += 1
            result.entries += 1
        last = rows[-1].seq
        session.expunge_all()
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one_or_none()
    if head is not None and head.seq != last:
        result.problems.append(
            Problem(
                min(head.seq, last) + 1,
                f"the head says {head.seq} entries, the table ends at {last}",
            )
        )
    active = _signer
    previous_root = ledger.GENESIS
    for cp in session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.last_seq)).scalars():
        result.checkpoints += 1
        covered = [hashes.get(s) for s in range(cp.first_seq, cp.last_seq + 1)]
        if None in covered or ledger.merkle_root([h for h in covered if h]) != cp.root:
            result.problems.append(
                Problem(
                    cp.first_seq,
                    f"checkpoint {cp.first_seq}-{cp.last_seq} root does not match the entries",
                )
            )
        if cp.prev_root != previous_root:
            result.problems.append(
                Problem(
                    cp.first_seq,
                    f"checkpoint {cp.first_seq}-{cp.last_seq} does not follow the one before",
                )
            )
        key = active.verifier(cp.key_id) if active else None
        message = ledger.statement(cp.first_seq, cp.last_seq, cp.root, cp.prev_root)
        if key is None:
            result.problems.append(
                Problem(cp.first_seq, f"checkpoint signed by unknown key {cp.key_id}")
            )
        elif not ledger.signature_valid(key, message, cp.signature):
            result.problems.append(
                Problem(cp.first_seq, f"checkpoint {cp.first_seq}-{cp.last_seq} signature invalid")
            )
        previous_root = cp.root
    return result


def checkpoints(session: Session) -> list[AuditCheckpoint]:
    return list(
        session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.last_seq)).scalars()
    )


def log_access(
    session: Session,
    *,
    customer_id: int,
    actor: str,
    kind: str,
    fields: list[str],
    reason: str,
    clock: Clock,
) -> DataAccess:
    """Note who saw whose data and why; reveals also go on the audit ledger."""
    row = DataAccess(
        customer_id=customer_id,
        at=clock.now(),
        actor=actor,
        kind=kind,
        fields=sorted(fields),
        reason=reason,
    )
    session.add(row)
    if kind == "reveal":
        record(
            session,
            actor=actor,
            action="customer.revealed",
            subject_type="customer",
            subject_id=customer_id,
            clock=clock,
            details={"fields": sorted(fields), "reason": reason},
        )
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
