from __future__ import annotations

import datetime as dt

from pydantic import Field

from recoup.identity.permissions import Permission, Role
from recoup.kit.schemas import Schema


class SignIn(Schema):
    username: str = Field(min_length=1, max_length=64, examples=["chen.gang"])
    password: str = Field(min_length=1, max_length=1024)


class Me(Schema):
    kind: str = Field(examples=["staff"])
    name: str = Field(examples=["chen.gang"])
    role: Role | None
    permissions: list[Permission]


class StaffCreate(Schema):
    username: str = Field(
        min_length=2, max_length=64, pattern=r"^[a-z0-9._-]+$", examples=["chen.gang"]
    )
    display_name: str = Field(min_length=1, max_length=128, examples=["陈刚"])
    role: Role
    password: str = Field(min_length=12, max_length=1024, description="At least 12 characters")


class Staff(Schema):
    id: int
    username: str
    display_name: str
    role: str
    created_at: dt.datetime


class ApiKeyCreate(Schema):
    name: str = Field(min_length=1, max_length=128, examples=["wallet backend"])
    scopes: list[Permission] = Field(min_length=1, examples=[["payments:write", "accounts:read"]])
    expires_at: dt.datetime | None = None


class ApiKey(Schema):
    id: int
    prefix: str = Field(description="Identifies the key; the key itself is never shown again")
    name: str
    scopes: list[str]
    created_by: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


class ApiKeyCreated(ApiKey):
    key: str = Field(description="The key. Shown once: store it now.")


class StaffMember(Staff):
    disabled_at: dt.datetime | None = Field(description="Set while the person cannot sign in")


class StaffProposalCreate(Schema):
    """A staff member proposed by one administrator; another approves it."""

    username: str = Field(
        min_length=2, max_length=64, pattern=r"^[a-z0-9._-]+$", examples=["chen.gang"]
    )
    display_name: str = Field(min_length=1, max_length=128, examples=["陈刚"])
    role: Role


class ApiKeyProposalCreate(Schema):
    """An API key proposed by one administrator; another approves it and sees the key once."""

    name: str = Field(min_length=1, max_length=128, examples=["wallet backend"])
    scopes: list[Permission] = Field(
        min_length=1, max_length=64, examples=[["payments:write", "accounts:read"]]
    )


class Proposal(Schema):
    id: int
    kind: str = Field(description="staff or api_key", examples=["staff"])
    status: str = Field(description="pending, approved, refused or expired", examples=["pending"])
    username: str | None = Field(None, examples=["chen.gang"])
    display_name: str | None = Field(None, examples=["陈刚"])
    role: str | None = Field(None, examples=["agent"])
    key_name: str | None = Field(None, examples=["wallet backend"])
    scopes: list[str] = Field(examples=[["payments:write"]])
    proposed_by: str = Field(examples=["staff:admin.li"])
    created_at: dt.datetime
    expires_at: dt.datetime
    decided_by: str | None = None
    decided_at: dt.datetime | None = None
    reason: str | None = None
    result_id: int | None = Field(None, description="The staff user or API key it made")


class ProposalApproved(Proposal):
    set_password_code: str | None = Field(
        None,
        description="A staff proposal: the one-time code the new person uses to choose a "
        "password (shown once, to the approver alone)",
    )
    set_password_code_expires_at: dt.datetime | None = None
    key: str | None = Field(None, description="An API key proposal: the key, shown once")


class ProposalRefusal(Schema):
    reason: str = Field(min_length=1, max_length=500, examples=["not on the hiring list"])


class SetPassword(Schema):
    username: str = Field(min_length=1, max_length=64, examples=["chen.gang"])
    code: str = Field(min_length=1, max_length=64, description="The one-time set-password code")
    password: str = Field(min_length=12, max_length=1024, description="At least 12 characters")
