from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from recoup.kit.types import UTCDateTime
from recoup.models.base import BigId, CreatedMixin, IdMixin, Model


class StaffUser(IdMixin, CreatedMixin, Model):
    """A person who works in Recoup: agent, supervisor, strategist, compliance officer, admin, auditor."""

    __tablename__ = "staff_users"

    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(128), nullable=False)
    role: Mapped[str] = mapped_column(String(32), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    failed_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class StaffSession(IdMixin, CreatedMixin, Model):
    """A signed-in console session. Only a SHA-256 of the cookie's token is stored."""

    __tablename__ = "staff_sessions"

    staff_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("staff_users.id"), index=True, nullable=False
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class ApiKey(IdMixin, CreatedMixin, Model):
    """An integration's key: `rk_<prefix>_<secret>`; the prefix identifies it, only a hash of the
    whole key is stored, its scopes are permissions, and it can be revoked."""

    __tablename__ = "api_keys"

    prefix: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    scopes: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    created_by: Mapped[str] = mapped_column(String(128), nullable=False)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
