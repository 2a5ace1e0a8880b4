from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from recoup.kit.types import UTCDateTime
from recoup.models.base import BigId, IdMixin, Model


class AuditEvent(Model):
    """One entry of the append-only, hash-chained audit ledger.

    `hash` = SHA-256 of the canonical JSON of every other field, `prev_hash` included, so changing,
    removing or reordering any entry breaks every hash after it. No personal data: subjects are ids,
    states are represented by hashes of their canonical JSON. Triggers refuse UPDATE and DELETE.
    """

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
    )
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)
    actor: Mapped[str] = mapped_column(String(128), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    subject_type: Mapped[str] = mapped_column(String(32), nullable=False)
    subject_id: Mapped[str] = mapped_column(String(64), nullable=False)
    before_hash: Mapped[str | None] = mapped_column(String(64))
    after_hash: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)


class AuditHead(Model):
    """The chain's tip, one row; appenders lock it, so entries get consecutive numbers in commit order."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)
    checkpointed_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)


class AuditCheckpoint(IdMixin, Model):
    """A signed Merkle root over the entries (first_seq, last_seq], chained to the previous checkpoint."""

    __tablename__ = "audit_checkpoints"

    first_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    last_seq: Mapped[int] = mapped_column(BigInteger, nullable=False, unique=True)
    root: Mapped[str] = mapped_column(String(64), nullable=False)
    prev_root: Mapped[str] = mapped_column(String(64), nullable=False)
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)
    key_id: Mapped[str] = mapped_column(String(64), nullable=False)
    signature: Mapped[str] = mapped_column(Text, nullable=False)
    # The covered entries' hashes, concatenated (64 hex characters each): the Merkle tree's leaves,
    # authenticated by the signed root, so `verify` names the entry that differs from them.
    leaves: Mapped[str | None] = mapped_column(Text)


class DataAccess(IdMixin, Model):
    """Who looked at whose personal data, when and why: the log the customer sees in the portal."""

    __tablename__ = "data_access_log"

    customer_id: Mapped[int] = mapped_column(BigId, nullable=False, index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)
    actor: Mapped[str] = mapped_column(String(128), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # view (masked) or reveal
    fields: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    reason: Mapped[str] = mapped_column(String(256), nullable=False)
