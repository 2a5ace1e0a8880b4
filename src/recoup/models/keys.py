from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from recoup.models.base import CreatedMixin, Model


class KeyPurpose(StrEnum):
    data = "data"  # seals personal fields
    blind_index = "index"  # keys the blind indexes


class KeyState(StrEnum):
    active = "active"  # seals new values (one data key at a time)
    retiring = "retiring"  # a rotation is moving its values to the active key
    retired = "retired"  # nothing is sealed under it any more; kept to read old backups


class EncryptionKey(CreatedMixin, Model):
    """A data or index key, wrapped by the master key; the plaintext key exists only in memory."""

    __tablename__ = "encryption_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(8), nullable=False)
    state: Mapped[str] = mapped_column(String(12), nullable=False)
    master_id: Mapped[str] = mapped_column(String(64), nullable=False)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    activated_at: Mapped[dt.datetime | None]
    retired_at: Mapped[dt.datetime | None]
