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


class StaffProposal(IdMixin, CreatedMixin, Model):
    """Four eyes on privilege: an administrator proposes a staff member (`kind` "staff": username,
    display name, role) or an API key (`kind` "api_key": name, scopes); a different administrator
    approves (the user or key is made then, `result_id` naming it) or refuses. `status`: pending,
    approved, refused; a pending proposal past `expires_at` is expired and can no longer be
    approved."""

    __tablename__ = "staff_proposals"

    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    username: Mapped[str | None] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(128))
    role: Mapped[str | None] = mapped_column(String(32))
    key_name: Mapped[str | None] = mapped_column(String(128))
    scopes: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    proposed_by: Mapped[str] = mapped_column(String(128), nullable=False)
    proposed_by_id: Mapped[int | None] = mapped_column(BigId)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(String(500))
    result_id: Mapped[int | None] = mapped_column(BigId)


class PasswordCode(IdMixin, CreatedMixin, Model):
    """A one-time code with which a new staff member chooses their own password. Only its SHA-256
    is stored; it works once (`used_at`) and until `expires_at`."""

    __tablename__ = "staff_password_codes"

    staff_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("staff_users.id"), index=True, nullable=False
    )
    code_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
