"""The audit ledger: record, checkpoint, verify; and the data-access log customers can read.

`record` runs inside the caller's transaction, so an audited change and its entry commit or roll back
together. Appenders lock the head row; entries therefore get consecutive numbers in commit order and
each names the hash of the one before. A checkpoint signs the Merkle root of the entries since the
last one and keeps their hashes (the tree's leaves, authenticated by the signed root):

- written by `record` when the tail reaches `entries` entries, or when its oldest entry is
  `minutes` old (`CheckpointPolicy`, from `RECOUP_AUDIT_CHECKPOINT_ENTRIES` / `_MINUTES`);
- by the worker between batches when the tail is that old (`checkpoint_due`), by the daily run at
  its end, and by `recoup audit checkpoint`.

What that guarantees: an entry under a signed checkpoint cannot be changed, removed or reordered,
even with its hash and every later hash recomputed, without `verify` naming it (its hash differs
from the leaf the signature covers), unless the signing key is stolen too. The entries after the
last checkpoint (`Verification.unanchored`) are protected by the hash chain only: someone who can
write the table can rewrite them and recompute the chain, and `verify` cannot tell; that window is
at most `entries` entries or `minutes` minutes of activity (longer only when no process runs).
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.orm import Session

from recoup.audit import ledger
from recoup.audit import repository as repo
from recoup.kit.clock import Clock
from recoup.kit.errors import ConfigurationError, NotFound
from recoup.models.audit import AuditCheckpoint, AuditEvent, AuditHead, DataAccess

CHECKPOINT_EVERY = 1000
CHECKPOINT_MINUTES = 60.0


@dataclass(frozen=True)
class CheckpointPolicy:
    """How long the ledger's tail may grow before a checkpoint signs it."""

    entries: int = CHECKPOINT_EVERY
    minutes: float = CHECKPOINT_MINUTES


_policy = CheckpointPolicy()


def install_policy(policy: CheckpointPolicy) -> None:
    global _policy
    _policy = policy


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


def signing() -> bool:
    """Whether a signing key is installed (checkpoints can be written)."""
    return _signer is not None


def signer() -> Signer:
    if _signer is None:
        raise ConfigurationError(
            "no audit signing key installed; run `recoup init` or configure one"
        )
    return _signer


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


@dataclass(frozen=True)
class Appended:
    """An entry as `record` appended it: the row's fields (written by one INSERT, not held by
    the session; `of_subject` and `since` read entries back as rows)."""

    seq: int
    at: dt.datetime
    actor: str
    action: str
    subject_type: str
    subject_id: str
    before_hash: str | None
    after_hash: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


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
) -> Appended:
    """Append one entry. `before`/`after` are plain-value states; only their hashes are kept.
    `details` must hold no personal data (ids, codes, counts, reasons)."""
    entry = Entry(actor, action, subject_type, subject_id, before, after, details)
    return record_many(session, [entry], clock=clock)[0]


def record_many(session: Session, entries: list[Entry], *, clock: Clock) -> list[Appended]:
    """Append several entries, chained in order, under one lock of the head (a batch of events
    handled in one transaction), in one INSERT."""
    if not entries:
        return []
    tip = repo.head(session)
    at = clock.now()
    rows: list[dict[str, Any]] = []
    seq, prev = tip.seq, tip.hash
    for entry in entries:
        seq += 1
        fields: dict[str, Any] = {
            "seq": seq,
            "at": at,
            "actor": entry.actor,
            "action": entry.action,
            "subject_type": entry.subject_type,
            "subject_id": str(entry.subject_id),
            "before_hash": ledger.state_hash(entry.before),
            "after_hash": ledger.state_hash(entry.after),
            "details": entry.details or {},
            "prev_hash": prev,
        }
        prev = ledger.entry_hash(**fields)
        rows.append({**fields, "hash": prev})
    repo.append(session, tip, rows)
    if _signer is not None and _due(session, tip.seq, tip.checkpointed_seq, at):
        checkpoint(session, clock=clock)
    return [Appended(**row) for row in rows]


def _due(session: Session, seq: int, checkpointed: int, now: dt.datetime) -> bool:
    if seq <= checkpointed:
        return False
    if seq - checkpointed >= _policy.entries:
        return True
    oldest = repo.at_of(session, checkpointed + 1)
    return oldest is not None and now - oldest >= dt.timedelta(minutes=_policy.minutes)


def checkpoint_due(session: Session, *, clock: Clock) -> AuditCheckpoint | None:
    """Sign a checkpoint when the tail is due one by the policy (the worker asks between batches);
    None when it is not, or when no signer is installed."""
    if _signer is None:
        return None
    tip = repo.peek_head(session)
    if tip is None or not _due(session, tip.seq, tip.checkpointed_seq, clock.now()):
        return None
    return checkpoint(session, clock=clock)


def checkpoint(session: Session, *, clock: Clock) -> AuditCheckpoint | None:
    """Sign the Merkle root of the entries since the last checkpoint (None when there are none)."""
    tip = repo.head(session)
    if tip.seq == tip.checkpointed_seq:
        return None
    first, last = tip.checkpointed_seq + 1, tip.seq
    hashes = repo.hashes_between(session, first, last)
    previous = repo.last_checkpoint(session)
    prev_root = previous.root if previous else ledger.GENESIS
    root = ledger.merkle_root(hashes)
    active = signer()
    return repo.add_checkpoint(
        session,
        tip,
        first_seq=first,
        last_seq=last,
        root=root,
        prev_root=prev_root,
        signed_at=clock.now(),
        key_id=ledger.key_id(active.public),
        signature=ledger.sign(active.private, ledger.statement(first, last, root, prev_root)),
        leaves="".join(hashes),
    )


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
    # Entries after the last signed checkpoint: protected by the hash chain only (see the module).
    unanchored: int = 0
    last_checkpoint_at: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_broken(self) -> Problem | None:
        return min(self.problems, key=lambda p: p.seq) if self.problems else None


def verify(session: Session, *, batch: int = 10_000) -> Verification:
    """Recompute every entry's hash and link, and every checkpoint's root and signature; compare
    each entry under a checkpoint with the leaf the checkpoint signed, so an entry rewritten and
    re-hashed (with the chain after it) is named where it was changed."""
    result = Verification()
    cps = repo.checkpoints(session)
    signed = _signed_leaves(cps, result)
    expected_seq, prev = 1, ledger.GENESIS
    hashes: dict[int, str] = {}
    last = 0
    while True:
        rows = repo.entries_after(session, last, limit=batch)
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
            elif e.seq in signed and signed[e.seq] != e.hash:
                result.problems.append(
                    Problem(
                        e.seq, "differs from the entry its signed checkpoint covers (rewritten)"
                    )
                )
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
    tip = repo.peek_head(session)
    if tip is not None and tip.seq != last:
        result.problems.append(
            Problem(
                min(tip.seq, last) + 1,
                f"the head says {tip.seq} entries, the table ends at {last}",
            )
        )
    for cp in cps:
        covered = [hashes.get(s) for s in range(cp.first_seq, cp.last_seq + 1)]
        if None in covered or ledger.merkle_root([h for h in covered if h]) != cp.root:
            # Named at the first entry that differs from what was signed, when the leaves say.
            at = next(
                (
                    s
                    for s in range(cp.first_seq, cp.last_seq + 1)
                    if s in signed and signed[s] != hashes.get(s)
                ),
                cp.first_seq,
            )
            result.problems.append(
                Problem(
                    at, f"checkpoint {cp.first_seq}-{cp.last_seq} root does not match the entries"
                )
            )
    last_signed = cps[-1].last_seq if cps else 0
    result.unanchored = max(0, last - last_signed)
    result.last_checkpoint_at = cps[-1].signed_at if cps else None
    return result


def _signed_leaves(cps: list[AuditCheckpoint], result: Verification) -> dict[int, str]:
    """Check each checkpoint's signature, chain and leaves; the entry hashes they authenticate."""
    active = _signer
    previous_root = ledger.GENESIS
    signed: dict[int, str] = {}
    for cp in cps:
        result.checkpoints += 1
        span = f"checkpoint {cp.first_seq}-{cp.last_seq}"
        if cp.prev_root != previous_root:
            result.problems.append(Problem(cp.first_seq, f"{span} does not follow the one before"))
        key = active.verifier(cp.key_id) if active else None
        message = ledger.statement(cp.first_seq, cp.last_seq, cp.root, cp.prev_root)
        valid = key is not None and ledger.signature_valid(key, message, cp.signature)
        if key is None:
            result.problems.append(
                Problem(cp.first_seq, f"checkpoint signed by unknown key {cp.key_id}")
            )
        elif not valid:
            result.problems.append(Problem(cp.first_seq, f"{span} signature invalid"))
        previous_root = cp.root
        if not valid or not cp.leaves:
            continue
        leaves = [cp.leaves[i : i + 64] for i in range(0, len(cp.leaves), 64)]
        if len(leaves) != cp.last_seq - cp.first_seq + 1 or ledger.merkle_root(leaves) != cp.root:
            result.problems.append(Problem(cp.first_seq, f"{span} leaves do not match its root"))
            continue
        signed.update(zip(range(cp.first_seq, cp.last_seq + 1), leaves, strict=True))
    return signed


def checkpoints(session: Session) -> list[AuditCheckpoint]:
    return repo.checkpoints(session)


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
    row = repo.add_access(
        session,
        customer_id=customer_id,
        at=clock.now(),
        actor=actor,
        kind=kind,
        fields=sorted(fields),
        reason=reason,
    )
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
    return row


def access_log(session: Session, customer_id: int) -> list[DataAccess]:
    return repo.access_log(session, customer_id)


def of_subject(
    session: Session, *, action: str, subject_type: str, subject_id: int | str
) -> list[AuditEvent]:
    """The ledger's entries of one action about one subject (a customer's `portal.opened`)."""
    return repo.of_subject(
        session, action=action, subject_type=subject_type, subject_id=str(subject_id)
    )


def since(session: Session, after: dt.datetime) -> list[AuditEvent]:
    return repo.since(session, after)


def head(session: Session) -> AuditHead | None:
    """The chain's tip (its last entry and hash, and how far signed checkpoints reach)."""
    return repo.peek_head(session)


class CheckpointNotFound(NotFound):
    code = "checkpoint_not_found"
    description = "No such audit checkpoint"


def checkpoint_document(session: Session, checkpoint_id: int) -> dict[str, Any]:
    """A checkpoint as a regulator checks it without Recoup: the statement that was signed (JSON,
    canonical), the Ed25519 signature over it, the public key when this deployment holds it, and
    the leaves (the covered entries' hashes) whose Merkle root the statement names."""
    cp = next((c for c in repo.checkpoints(session) if c.id == checkpoint_id), None)
    if cp is None:
        raise CheckpointNotFound(f"no checkpoint {checkpoint_id}")
    key = _signer.verifier(cp.key_id) if _signer is not None else None
    leaves = cp.leaves or ""
    return {
        "checkpoint": cp.id,
        "first_seq": cp.first_seq,
        "last_seq": cp.last_seq,
        "root": cp.root,
        "prev_root": cp.prev_root,
        "signed_at": cp.signed_at.isoformat(),
        "statement": ledger.statement(cp.first_seq, cp.last_seq, cp.root, cp.prev_root).decode(),
        "algorithm": "Ed25519 over the statement's UTF-8 bytes; root: Merkle (SHA-256) of leaves",
        "key_id": cp.key_id,
        "public_key": base64.b64encode(
            key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        ).decode()
        if key is not None
        else None,
        "signature": cp.signature,
        "leaves": [leaves[i : i + 64] for i in range(0, len(leaves), 64)],
    }
